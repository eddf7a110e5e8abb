"""How each blocking rule earns its place: comparisons it costs and true pairs it reaches.

    python -m c360.identity.blocking --db WAREHOUSE [--truth RAW_DIR/truth_person_records.csv]

A pair Splink never compares can never be linked, so recall is capped by the blocking
rules; every rule also costs comparisons (time). Per rule, in order: the comparisons it
adds, the same per person record, the cumulative total and, with a truth file
(evaluation data only), the share of true pairs compared so far. The largest block of a
rule (the records sharing its most common key) is what would make it quadratic: a rule
whose comparisons per record stay flat as the data grows costs linear time. Run it on
data of several sizes (figures in BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pyarrow as pa
from splink import DuckDBAPI
from splink.blocking_analysis import count_comparisons_from_blocking_rules, n_largest_blocks

from c360.identity.evaluate import read_truth
from c360.identity.scoring import MATCH_COLUMNS, splink_connection
from c360.identity.splink_settings import PREDICTION_RULES, UNIQUE_ID, Rule
from c360.identity.workbench import records_sql

RECORDS_SQL = records_sql(MATCH_COLUMNS)


def blocking_report(
    records: pa.Table, truth: pa.Table | None = None, rules: list[Rule] = PREDICTION_RULES
) -> list[dict]:
    """Per rule, in order: marginal and cumulative comparisons (also per record), the
    largest block, and the cumulative recall of true pairs when `truth` is given."""
    db_api = DuckDBAPI(connection=splink_connection())
    frame = db_api.register(records.select(MATCH_COLUMNS), table_name="blocking_records")
    counts = count_comparisons_from_blocking_rules(
        frame,
        blocking_rules=[rule.creator for rule in rules],
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        record_sample_proportion=1.0,
    )
    largest = []
    for rule in rules:
        blocks = n_largest_blocks(
            frame, blocking_rule=rule.creator, link_type="dedupe_only", n_largest=1
        ).as_record_list()
        largest.append(int(blocks[0]["count_l"]) if blocks else 0)
    recalls = _true_pair_recall(records, truth, rules) if truth is not None else None
    n = max(records.num_rows, 1)
    report = []
    for i, rule in enumerate(rules):
        marginal = counts[i]["marginal_comparison_count"]
        cumulative = counts[i]["cumulative_comparison_count"]
        report.append(
            {
                "rule": rule.name,
                "marginal_comparisons": marginal,
                "marginal_per_record": marginal / n,
                "cumulative_comparisons": cumulative,
                "cumulative_per_record": cumulative / n,
                "largest_block": largest[i],
                "cumulative_true_pair_recall": None if recalls is None else recalls[i],
            }
        )
    return report


def _true_pair_recall(records: pa.Table, truth: pa.Table, rules: list[Rule]) -> list[float]:
    """Cumulative share of true pairs (same person in truth) that the rules compare."""
    con = duckdb.connect()
    con.register("records", records.select(MATCH_COLUMNS))
    con.register("truth", truth)
    conditions = [rule.creator.get_blocking_rule("duckdb").blocking_rule_sql for rule in rules]
    flags = ", ".join(f"coalesce({c}, false) as rule_{i}" for i, c in enumerate(conditions))
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
    recalls = []
    for i in range(len(rules)):
        found = con.sql(
            "select count(*) from true_pairs where "
            + " or ".join(f"rule_{j}" for j in range(i + 1))
        ).fetchall()[0][0]
        recalls.append(found / total if total else 1.0)
    return recalls


def print_report(report: list[dict], records: int) -> None:
    print(f"{records:,d} person records")
    header = (
        f"{'rule':30s}{'comparisons':>13s}{'per record':>12s}{'cumulative':>13s}"
        f"{'per record':>12s}{'largest block':>15s}"
    )
    with_truth = report and report[0]["cumulative_true_pair_recall"] is not None
    print(header + (f"{'true pairs compared':>21s}" if with_truth else ""))
    for row in report:
        line = (
            f"{row['rule']:30s}{row['marginal_comparisons']:>13,d}"
            f"{row['marginal_per_record']:>12.3f}{row['cumulative_comparisons']:>13,d}"
            f"{row['cumulative_per_record']:>12.3f}{row['largest_block']:>15,d}"
        )
        if with_truth:
            line += f"{row['cumulative_true_pair_recall']:>21.4f}"
        print(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse built by dbt")
    parser.add_argument("--truth", type=Path, help="truth_person_records.csv (optional)")
    args = parser.parse_args(argv)
    with duckdb.connect(str(args.db), read_only=True) as con:
        records = con.sql(RECORDS_SQL).arrow().read_all()
    truth = read_truth(args.truth) if args.truth else None
    print_report(blocking_report(records, truth), records.num_rows)


if __name__ == "__main__":
    main()
