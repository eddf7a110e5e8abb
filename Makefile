# Recurring commands. Everything runs inside .venv, created on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DBT := $(BIN)/dbt

export DBT_PROFILES_DIR ?= $(CURDIR)/profiles
export C360_RAW_PATH ?= data/sample
export C360_RAW_FORMAT ?= csv
# The build's own warehouse: every layer, raw copies included. Never shared with readers,
# and kept out of target/, which holds only what may be shown (see docs/operations.md).
export C360_DUCKDB_PATH ?= warehouse/customer_360.duckdb
# The published copy BI tools and exports read: the marts of the last passing build.
export C360_SERVING_PATH ?= target/serving/customer_360.duckdb
# Persons, seed and difficulty (default or hard, see docs/datasets.md) for `make generate`.
PERSONS ?= 20000
SEED ?= 1
DIFFICULTY ?= default
OUT ?= data/generated/$(PERSONS)_seed$(SEED)$(if $(filter-out default,$(DIFFICULTY)),_$(DIFFICULTY))
FORMAT ?= csv
# `make bench`: run folder (+ _hard for hard data), raw data cache (Parquet, per persons, seed
# and difficulty), extra arguments (e.g. BENCH_ARGS=--no-naive). It runs both difficulties,
# one after the other, unless DIFFICULTY is given.
BENCH_OUT ?= bench/$(PERSONS)_seed$(SEED)
BENCH_DATA ?= bench/data
BENCH_ARGS ?=
BENCH_DIFFICULTY = $(if $(filter command line environment,$(origin DIFFICULTY)),$(DIFFICULTY),default hard)

.PHONY: setup build publish resolve export-audiences report test lint pytest unit generate docs sample train train-churn evaluate bench sar clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

## build: set up, seed, build and test every model on $(C360_RAW_PATH), then publish for readers
build: setup
	$(DBT) build
	$(MAKE) --no-print-directory publish

## publish: the marts of the last build, if it passed completely, swapped into $(C360_SERVING_PATH)
publish: setup
	$(BIN)/python -m c360.publish --db $(C360_DUCKDB_PATH) --to $(C360_SERVING_PATH)

## resolve: one incoming record against the published warehouse (RESOLVE_ARGS, e.g.
## --email ada@example.com --name "Ada Lovelace" --profile; --bench 1000 times it)
RESOLVE_ARGS ?= --help
resolve: setup
	$(BIN)/python -m c360.identity.resolve --db $(C360_SERVING_PATH) $(RESOLVE_ARGS)

## export-audiences: one file per audience from the published warehouse only (AUDIENCE_FORMAT, AUDIENCE_DIR)
AUDIENCE_FORMAT ?= parquet
AUDIENCE_DIR ?= target/audiences
export-audiences: setup
	$(BIN)/python -m c360.activation.export --db $(C360_SERVING_PATH) --out $(AUDIENCE_DIR) \
		--format $(AUDIENCE_FORMAT)

## report: static HTML reports of $(C360_DUCKDB_PATH) in REPORT_DIR (open index.html); read-only.
## Masked by default (personal values as short SHA-256 hashes); MASKED=0 shows them in clear
MASKED ?= 1
REPORT_DIR ?= target/reports
report: setup
	$(BIN)/python -m c360.report --db $(C360_DUCKDB_PATH) --out $(REPORT_DIR) \
		$(if $(filter 0,$(MASKED)),--unmasked,--masked)

## test: lint (sqlfluff + ruff), then pytest (unit + end-to-end integration tests)
test: setup lint pytest

lint: setup
	$(BIN)/ruff check src tests/python
	$(BIN)/ruff format --check src tests/python
	$(BIN)/sqlfluff lint models macros tests/dbt analyses

# Test workers (pytest-xdist): one per core by default, PYTEST_WORKERS=0 for one process.
# Each module runs whole on one worker (its fixtures built once), in the order conftest.py
# sets: the longest chains of builds first (tests/python/conftest.py).
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL = $(if $(filter 0,$(PYTEST_WORKERS)),-p no:xdist,-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder)

pytest: setup
	$(BIN)/pytest $(PYTEST_PARALLEL)

## unit: the tests that build nothing with dbt (the package's logic), for a fast loop
unit: setup
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not integration"

## generate: write a synthetic raw folder (PERSONS, SEED, DIFFICULTY, OUT, FORMAT)
generate: setup
	$(BIN)/python -m c360.datagen --persons $(PERSONS) --seed $(SEED) --out $(OUT) --format $(FORMAT) \
		--difficulty $(DIFFICULTY)

## sample: regenerate the bundled sample in data/sample
sample: setup
	rm -rf data/sample
	$(BIN)/python -m c360.datagen --persons 3000 --seed 42 --out data/sample --format csv

## train: re-estimate the Splink model on the built warehouse: its own records (rules and
## comparisons from the identifiers present) and reviewers' labels; writes the committed JSON,
## or C360_IDENTITY_MODEL when set (builds then score with that file). See docs/identity.md.
train: setup
	$(BIN)/python -m c360.identity.train --db $(C360_DUCKDB_PATH) \
		$(if $(C360_IDENTITY_MODEL),--out $(C360_IDENTITY_MODEL))

## train-churn: `make build` that trains and stores a new churn model version whatever the age
## of the stored one (docs/churn.md), scores with it and publishes
train-churn: setup
	C360_CHURN_TRAIN_NEW_MODEL=true $(MAKE) --no-print-directory build

## evaluate: score customer_identifiers against the raw folder's truth beside plain Splink, or,
## without one, against reviewers' labels with a suggested threshold (EVALUATE_ARGS, e.g.
## --baselines naive,febrl_example)
EVALUATE_ARGS ?=
evaluate: setup
	$(BIN)/python -m c360.identity.evaluate --db $(C360_DUCKDB_PATH) \
		--truth $(C360_RAW_PATH)/truth_person_records.csv $(EVALUATE_ARGS)

## bench: generate PERSONS/SEED (cached), dbt build into a fresh warehouse, report time,
## memory, records/s and accuracy beside the naive Splink set-up, on default and hard data
## (or DIFFICULTY); writes BENCH_OUT/result.json and BENCH_OUT_hard/result.json
bench: setup
	@set -e; for difficulty in $(BENCH_DIFFICULTY); do \
		out=$(BENCH_OUT)$$([ $$difficulty = default ] || echo _$$difficulty); \
		echo "== make bench: $$difficulty data, run folder $$out"; \
		$(BIN)/python -m c360.bench --persons $(PERSONS) --seed $(SEED) \
			--difficulty $$difficulty --out $$out --data $(BENCH_DATA) $(BENCH_ARGS); \
	done

## sar: subject-access export of EMAIL (and/or PHONE) from $(C360_DUCKDB_PATH) to one JSON file
## (OUT=... to choose it; CUSTOMER_ID=... when the identifiers are shared by several customers)
SAR_OUT = $(if $(filter command line environment,$(origin OUT)),$(OUT),warehouse/sar/access_export.json)
sar: setup
	@if [ -z "$(EMAIL)$(PHONE)" ]; then echo "usage: make sar EMAIL=... [PHONE=...] [OUT=file.json]" >&2; exit 2; fi
	$(BIN)/python -m c360.privacy.access_export --db $(C360_DUCKDB_PATH) --out $(SAR_OUT) \
		$(if $(EMAIL),--email '$(EMAIL)') $(if $(PHONE),--phone '$(PHONE)') \
		$(if $(CUSTOMER_ID),--customer-id '$(CUSTOMER_ID)')

docs: setup
	$(DBT) docs generate

# keeps warehouse/: it holds state that outlives a build (the audience changes log)
clean:
	rm -rf target logs $(VENV)
