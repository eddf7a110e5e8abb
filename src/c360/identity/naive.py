"""Plain Splink set-ups a user would write by hand: the baselines we must beat.

naive: name, email, phone, date of birth and address comparisons, blocking on email, phone
and exact first + last name, EM trained on every run, connected components at 0.9. No
junk guards, no nickname canonicalisation, no conflict checks. A hand-written script
trains on the columns its data has, so EM rules whose column is empty are left out.

febrl_example: the set-up of Splink's own FEBRL deduplication example, on the columns of
the source contract (no social security number): name comparisons, date of birth, house
number and postal code with term frequencies; blocking on first + last name, swapped
names, date of birth, street, and postal code alone; EM on date of birth and postal code.
Postal code alone is quadratic: this one is for data sets of a few thousand records.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

from c360.identity.scoring import MATCH_COLUMNS, splink_connection

NAIVE_THRESHOLD = 0.9
SETUPS = ("naive", "febrl_example")


def _has_data(records: pa.Table, *columns: str) -> bool:
    return all(records.num_rows - records.column(c).null_count >= 2 for c in columns)


def _linker(records: pa.Table, settings: SettingsCreator) -> Linker:
    db_api = DuckDBAPI(connection=splink_connection())
    frame = db_api.register(records.select(MATCH_COLUMNS), table_name="naive_records")
    return Linker(frame, settings, log_level=logging.ERROR)


def _clusters(linker: Linker) -> pa.Table:
    predictions = linker.inference.predict(threshold_match_probability=NAIVE_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=NAIVE_THRESHOLD
    ).as_pyarrow_table()
    return pa.table(
        {
            "person_record_id": clusters.column("person_record_id"),
            "customer_id": pc.cast(clusters.column("cluster_id"), pa.string()),
        }
    )


def naive_clusters(records: pa.Table) -> pa.Table:
    """(person_record_id, customer_id) from plain Splink on the same person records."""
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="person_record_id",
        comparisons=[
            cl.NameComparison("first_name_key"),
            cl.NameComparison("last_name_key"),
            cl.ExactMatch("email_key"),
            cl.ExactMatch("phone_e164"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("postal_code"),
            cl.JaroWinklerAtThresholds("street_key", [0.9]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email_key"),
            block_on("phone_e164"),
            block_on("first_name_key", "last_name_key"),
        ],
    )
    linker = _linker(records, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name_key", "last_name_key", "birth_date")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for columns in (("first_name_key", "last_name_key"), ("email_key",)):
        if _has_data(records, *columns):
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*columns))
    return _clusters(linker)


def febrl_example_clusters(records: pa.Table) -> pa.Table:
    """(person_record_id, customer_id) from Splink's FEBRL example set-up."""
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="person_record_id",
        comparisons=[
            cl.NameComparison("first_name_key"),
            cl.NameComparison("last_name_key"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postal_code").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name_key", "last_name_key"),
            CustomRule("l.first_name_key = r.last_name_key and l.last_name_key = r.first_name_key"),
            block_on("birth_date"),
            block_on("street_number", "street_name_key"),
            block_on("postal_code"),
        ],
    )
    linker = _linker(records, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name_key", "last_name_key", "birth_date")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postal_code"))
    return _clusters(linker)


def clusters_of(setup: str, records: pa.Table) -> pa.Table:
    """The clusters of one of SETUPS on `records`."""
    if setup == "naive":
        return naive_clusters(records)
    if setup == "febrl_example":
        return febrl_example_clusters(records)
    raise ValueError(f"baseline set-up must be one of {', '.join(SETUPS)}, got {setup!r}")


def timed_naive_clusters(records: pa.Table, setup: str = "naive") -> tuple[pa.Table, float]:
    """A baseline run the way a hand-written script runs: in a fresh Python process
    (`python -m c360.identity.naive`), so its wall time includes importing Splink, as the
    project's identity step pays it inside dbt. Returns the clusters and those seconds."""
    with tempfile.TemporaryDirectory(prefix="c360_naive_") as folder:
        records_path = Path(folder) / "records.parquet"
        clusters_path = Path(folder) / "clusters.parquet"
        pq.write_table(records.select(MATCH_COLUMNS), records_path)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "c360.identity.naive",
                str(records_path),
                str(clusters_path),
                "--setup",
                setup,
            ],
            check=True,
        )
        seconds = time.perf_counter() - started
        return pq.read_table(clusters_path), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Cluster person records with plain Splink.")
    parser.add_argument("records", type=Path, help="Parquet of person records (MATCH_COLUMNS)")
    parser.add_argument("clusters", type=Path, help="Parquet out: person_record_id, customer_id")
    parser.add_argument("--setup", choices=SETUPS, default="naive")
    args = parser.parse_args(argv)
    pq.write_table(clusters_of(args.setup, pq.read_table(args.records)), args.clusters)


if __name__ == "__main__":
    main()
