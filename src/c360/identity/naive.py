"""The naive Splink set-up a user would write by hand: the baseline we must beat.

Name, email, phone, date of birth and address comparisons, a few blocking rules, EM
trained on every run, connected components at 0.9. No junk guards, no nickname
canonicalisation, no conflict checks.
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

from c360.identity.scoring import MATCH_COLUMNS, splink_connection

NAIVE_THRESHOLD = 0.9


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
    db_api = DuckDBAPI(connection=splink_connection())
    frame = db_api.register(records.select(MATCH_COLUMNS), table_name="naive_records")
    linker = Linker(frame, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name_key", "last_name_key", "birth_date")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name_key", "last_name_key")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email_key"))
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


def timed_naive_clusters(records: pa.Table) -> tuple[pa.Table, float]:
    """naive_clusters run the way a hand-written script runs: in a fresh Python process
    (`python -m c360.identity.naive`), so its wall time includes importing Splink, as the
    project's identity step pays it inside dbt. Returns the clusters and those seconds."""
    with tempfile.TemporaryDirectory(prefix="c360_naive_") as folder:
        records_path = Path(folder) / "records.parquet"
        clusters_path = Path(folder) / "clusters.parquet"
        pq.write_table(records.select(MATCH_COLUMNS), records_path)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "c360.identity.naive", str(records_path), str(clusters_path)],
            check=True,
        )
        seconds = time.perf_counter() - started
        return pq.read_table(clusters_path), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Cluster person records with naive Splink.")
    parser.add_argument("records", type=Path, help="Parquet of person records (MATCH_COLUMNS)")
    parser.add_argument("clusters", type=Path, help="Parquet out: person_record_id, customer_id")
    args = parser.parse_args(argv)
    pq.write_table(naive_clusters(pq.read_table(args.records)), args.clusters)


if __name__ == "__main__":
    main()
