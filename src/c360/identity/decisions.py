"""What each guard decision is worth: the build's pairs re-clustered with one rule at a time.

    python -m c360.identity.decisions --db WAREHOUSE --truth RAW_DIR/truth_person_records.csv

The build's scored and deterministic pairs (same model, same threshold, no override) are
clustered again: without guards, with the strict guards of before (any other first name
or date of birth is a contradiction), adding each kind of forgiveness, and with all
rules but one safety rule. Pairwise and B-cubed precision and recall against the truth
show what each decision gains and costs. Evaluation data only (reads truth).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import duckdb

from c360.identity.clustering import ALL_RULES, GUARD_COLUMNS, GuardRules, cluster_records
from c360.identity.evaluate import cluster_metrics, match_threshold, read_truth
from c360.identity.workbench import PAIRS_SQL, records_sql

RECORDS_SQL = records_sql(GUARD_COLUMNS, order=True)
STRICT = GuardRules(typo_first_names=False, typo_birth_dates=False, stray_values=False)
VARIANTS: list[tuple[str, GuardRules | None]] = [
    ("no guards (connected components)", None),
    ("strict: any other value refused", STRICT),
    ("+ first-name typos", replace(STRICT, typo_first_names=True)),
    ("+ birth-date typos", replace(STRICT, typo_first_names=True, typo_birth_dates=True)),
    ("+ a stray value forgiven (build)", ALL_RULES),
    ("build without: two-edit long names", replace(ALL_RULES, two_edit_names=False)),
    ("build without: nickname typos", replace(ALL_RULES, nickname_typos=False)),
    ("build without: date typo at the address", replace(ALL_RULES, typo_date_at_address=False)),
    ("build without: tied spellings", replace(ALL_RULES, spelling_variants=False)),
    ("build without: common names differ", replace(ALL_RULES, common_names_differ=False)),
    ("build without: similar names differ", replace(ALL_RULES, similar_names_differ=False)),
    ("build without: own contacts", replace(ALL_RULES, own_contacts=False)),
    ("build without: confirmed values", replace(ALL_RULES, confirmed_values=False)),
    ("build without: generation gap", replace(ALL_RULES, generation_gap=False)),
]


def decisions_report(db: Path, truth_path: Path, threshold: float | None = None) -> list[dict]:
    """One row per variant: its name and the metrics of its clusters against the truth."""
    threshold = match_threshold() if threshold is None else threshold
    truth = read_truth(truth_path)
    with duckdb.connect(str(db), read_only=True) as con:
        records = con.sql(RECORDS_SQL).arrow().read_all()
        pairs = con.sql(PAIRS_SQL).arrow().read_all()
    rows = []
    for name, rules in VARIANTS:
        clustered, decisions = cluster_records(
            records, pairs, threshold, guarded=rules is not None, rules=rules or ALL_RULES
        )
        metrics = cluster_metrics(clustered.select(["person_record_id", "customer_id"]), truth)
        refused = (
            decisions.refused_first_name + decisions.refused_birth_date + decisions.refused_size
        )
        rows.append({"variant": name, "refused_merges": refused, **metrics})
    return rows


def print_report(rows: list[dict]) -> None:
    columns = ["pairwise_precision", "pairwise_recall", "b3_precision", "b3_recall", "b3_f1"]
    print(f"{'guards':38s}{'refused':>9s}" + "".join(f"{c:>20s}" for c in columns))
    for row in rows:
        print(
            f"{row['variant']:38s}{row['refused_merges']:>9,d}"
            + "".join(f"{row[c]:>20.4f}" for c in columns)
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse built by dbt")
    parser.add_argument("--truth", type=Path, required=True, help="truth_person_records.csv")
    parser.add_argument("--threshold", type=float, help="match threshold (default: the build's)")
    args = parser.parse_args(argv)
    print_report(decisions_report(args.db, args.truth, args.threshold))


if __name__ == "__main__":
    main()
