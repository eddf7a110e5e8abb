"""How each blocking rule earns its place: comparisons it adds and true pairs it reaches.

    python -m c360.identity.blocking --db WAREHOUSE --truth RAW_DIR/truth_person_records.csv

A pair Splink never compares can never be linked, so recall is capped by the blocking
rules; every rule also costs comparisons (time). Evaluation data only (reads truth).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pyarrow as pa
from splink import DuckDBAPI
from splink.blocking_analysis import count_comparisons_from_blocking_rules

from c360.identity.evaluate import read_truth
from c360.identity.scoring import MATCH_COLUMNS, splink_connection
from c360.identity.splink_settings import PREDICTION_RULE_COLUMNS, PREDICTION_RULES, UNIQUE_ID


def blocking_report(records: pa.Table, truth: pa.Table) -> list[dict]:
    """Per rule, in order: marginal comparisons and cumulative recall of true pairs."""
    db_api = DuckDBAPI(connection=splink_connection())
    frame = db_api.register(records.select(MATCH_COLUMNS), table_name="blocking_records")
    counts = count_comparisons_from_blocking_rules(
        frame,
        blocking_rules=PREDICTION_RULES,
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        record_sample_proportion=1.0,
    )
    con = duckdb.connect()
    con.register("records", records.select(MATCH_COLUMNS))
    con.register("truth", truth)
    agree = [" and ".join(f"l.{c} = r.{c}" for c in columns) for columns in PREDICTION_RULE_COLUMNS]
    flags = ", ".join(
        f"coalesce({condition}, false) as rule_{i}" for i, condition in enumerate(agree)
    )
    con.sql(
        f"""
        create table true_pairs as
        select {flags}
        from truth as tl
        inner join truth as tr
            on tl.person_id = tr.person_id and tl.person_record_id < tr.person_record_id
        inner join records as l on l.{UNIQUE_ID} = tl.person_record_id
        inner join records as r on r.{UNIQUE_ID} = tr.person_record_id
        """
    )
    total = con.sql("select count(*) from true_pairs").fetchall()[0][0]
    report = []
    for i, columns in enumerate(PREDICTION_RULE_COLUMNS):
        found = con.sql(
            "select count(*) from true_pairs where "
            + " or ".join(f"rule_{j}" for j in range(i + 1))
        ).fetchall()[0][0]
        report.append(
            {
                "rule": " + ".join(columns),
                "marginal_comparisons": counts[i]["marginal_comparison_count"],
                "cumulative_comparisons": counts[i]["cumulative_comparison_count"],
                "cumulative_true_pair_recall": found / total if total else 1.0,
            }
        )
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse built by dbt")
    parser.add_argument("--truth", type=Path, required=True, help="truth_person_records.csv")
    args = parser.parse_args(argv)
    with duckdb.connect(str(args.db), read_only=True) as con:
        records = (
            con.sql("select * from intermediate.int_person_records_unioned").arrow().read_all()
        )
    print(f"{'rule':40s}{'marginal comparisons':>22s}{'cumulative':>14s}{'true-pair recall':>18s}")
    for row in blocking_report(records, read_truth(args.truth)):
        print(
            f"{row['rule']:40s}{row['marginal_comparisons']:>22,d}"
            f"{row['cumulative_comparisons']:>14,d}{row['cumulative_true_pair_recall']:>18.4f}"
        )


if __name__ == "__main__":
    main()
