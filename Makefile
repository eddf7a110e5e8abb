# Recurring commands. Everything runs inside .venv, created on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DBT := $(BIN)/dbt

export DBT_PROFILES_DIR ?= $(CURDIR)/profiles
export C360_RAW_PATH ?= data/sample
export C360_RAW_FORMAT ?= csv
# `make bench`: run folder, raw data cache (Parquet, per persons and seed), extra arguments
# (e.g. BENCH_ARGS=--no-naive).
BENCH_OUT ?= bench/$(PERSONS)_seed$(SEED)
BENCH_DATA ?= bench/data
BENCH_ARGS ?=
export C360_DUCKDB_PATH ?= target/customer_360.duckdb
# Persons and seed for `make generate`.
PERSONS ?= 20000
SEED ?= 1
OUT ?= data/generated/$(PERSONS)_seed$(SEED)
FORMAT ?= csv
# `make bench`: run folder, raw data cache (Parquet, per persons and seed), extra arguments
# (e.g. BENCH_ARGS=--no-naive).
BENCH_OUT ?= bench/$(PERSONS)_seed$(SEED)
BENCH_DATA ?= bench/data
BENCH_ARGS ?=

.PHONY: setup build test lint pytest generate docs sample train evaluate bench clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

## build: set up, then seed, build and test every model on $(C360_RAW_PATH)
build: setup
	$(DBT) build

## test: lint (sqlfluff + ruff), then pytest (unit + end-to-end integration tests)
test: setup lint pytest

lint: setup
	$(BIN)/ruff check src tests/python
	$(BIN)/ruff format --check src tests/python
	$(BIN)/sqlfluff lint models macros tests/dbt analyses

pytest: setup
	$(BIN)/pytest

## generate: write a synthetic raw folder (PERSONS, SEED, OUT, FORMAT)
generate: setup
	$(BIN)/python -m c360.datagen --persons $(PERSONS) --seed $(SEED) --out $(OUT) --format $(FORMAT)

## sample: regenerate the bundled sample in data/sample
sample: setup
	rm -rf data/sample
	$(BIN)/python -m c360.datagen --persons 3000 --seed 42 --out data/sample --format csv

## train: re-estimate the Splink model on the built warehouse; writes the committed JSON
train: setup
	$(BIN)/python -m c360.identity.train --db $(C360_DUCKDB_PATH)

## evaluate: score customer_identifiers against the raw folder's truth, beside naive Splink
evaluate: setup
	$(BIN)/python -m c360.identity.evaluate --db $(C360_DUCKDB_PATH) \
		--truth $(C360_RAW_PATH)/truth_person_records.csv

## bench: generate PERSONS/SEED (cached), dbt build into a fresh warehouse, report time,
## memory, records/s and accuracy beside the naive Splink set-up; writes BENCH_OUT/result.json
bench: setup
	$(BIN)/python -m c360.bench --persons $(PERSONS) --seed $(SEED) --out $(BENCH_OUT) \
		--data $(BENCH_DATA) $(BENCH_ARGS)

docs: setup
	$(DBT) docs generate

clean:
	rm -rf target logs $(VENV)
