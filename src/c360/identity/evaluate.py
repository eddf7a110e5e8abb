"""Score customer ids against the generator's ground truth, beside a naive Splink set-up.

    python -m c360.identity.evaluate --db WAREHOUSE --truth RAW_DIR/truth_person_records.csv

Pairwise precision/recall/F1 count co-clustered record pairs; B-cubed averages, per record,
how much of its cluster is the same person (precision) and how much of the person its
cluster holds (recall). Ground truth is read here and in tests only, never by a model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[3]
IDENTIFIERS_SQL = """
    select source_system || ':' || source_record_id as person_record_id, customer_id
    from main.customer_identifiers
"""


def cluster_metrics(predicted: pa.Table, truth: pa.Table) -> dict[str, float]:
    """Metrics of predicted (person_record_id, customer_id) against truth (..., person_id)."""
    con = duckdb.connect()
    con.register("predicted", predicted)
    con.register("truth", truth)
    row = con.sql(
        """
        with joined as (
            select predicted.customer_id, truth.person_id
            from predicted
            inner join truth on predicted.person_record_id = truth.person_record_id
        ),
        cells as (select customer_id, person_id, count(*) as n from joined group by all),
        clusters as (select customer_id, count(*) as n from joined group by all),
        persons as (select person_id, count(*) as n from joined group by all)
        select
            (select count(*) from joined) as records,
            (select sum(n * (n - 1) / 2) from cells) as true_positive_pairs,
            (select sum(n * (n - 1) / 2) from clusters) as predicted_pairs,
            (select sum(n * (n - 1) / 2) from persons) as true_pairs,
            (select sum(cells.n * cells.n / clusters.n) from cells
                inner join clusters using (customer_id)) as b3_precision_sum,
            (select sum(cells.n * cells.n / persons.n) from cells
                inner join persons using (person_id)) as b3_recall_sum
        """
    ).fetchall()[0]
    records, tp, predicted_pairs, true_pairs, b3p, b3r = (float(v or 0) for v in row)

    def f1(p: float, r: float) -> float:
        return 2 * p * r / (p + r) if p + r else 0.0

    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    b3_precision = b3p / records if records else 1.0
    b3_recall = b3r / records if records else 1.0
    return {
        "records": records,
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f1": f1(precision, recall),
        "b3_precision": b3_precision,
        "b3_recall": b3_recall,
        "b3_f1": f1(b3_precision, b3_recall),
    }


def match_threshold() -> float:
    """The build's var identity_match_threshold, read from dbt_project.yml (one source)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return float(project["vars"]["identity_match_threshold"])


def unguarded_clusters(db: Path, records: pa.Table) -> pa.Table:
    """The build's own scored and deterministic pairs as plain connected components at the
    build's threshold: the same evidence without the guards, to show what they are worth."""
    from c360.identity.clustering import cluster_records

    with duckdb.connect(str(db), read_only=True) as con:
        pairs = (
            con.sql(
                """
            select person_record_id_l, person_record_id_r, match_probability
            from intermediate.int_person_pairs_scored
            union all
            select person_record_id_l, person_record_id_r, match_probability
            from intermediate.int_identity_edges_deterministic
            """
            )
            .arrow()
            .read_all()
        )
    clustered, _ = cluster_records(records, pairs, match_threshold(), guarded=False)
    return clustered.select(["person_record_id", "customer_id"])


def read_truth(path: Path) -> pa.Table:
    return (
        duckdb.sql(
            f"""
        select source_system || ':' || source_record_id as person_record_id, person_id
        from read_csv('{path}', all_varchar = true, header = true)
        """
        )
        .arrow()
        .read_all()
    )


def evaluate(db: Path, truth_path: Path, naive: bool = True) -> dict[str, dict[str, float]]:
    """Metrics of the build's customer_identifiers, of its pairs without guards and (naive)
    of the naive Splink set-up on the same records; naive_splink also carries `seconds`,
    the wall time of the naive set-up as a script of its own (Python start, imports,
    training, prediction, clustering: c360.identity.naive.timed_naive_clusters)."""
    from c360.identity.naive import timed_naive_clusters

    truth = read_truth(truth_path)
    with duckdb.connect(str(db), read_only=True) as con:
        ours = con.sql(IDENTIFIERS_SQL).arrow().read_all()
        records = (
            con.sql("select * from intermediate.int_person_records_unioned").arrow().read_all()
        )
    results = {"customer_360": cluster_metrics(ours, truth)}
    results["same_pairs_no_guards"] = cluster_metrics(unguarded_clusters(db, records), truth)
    if naive:
        clusters, seconds = timed_naive_clusters(records)
        results["naive_splink"] = {**cluster_metrics(clusters, truth), "seconds": seconds}
    return results


def print_metrics(results: dict[str, dict[str, float]]) -> None:
    """One column per set-up, one row per metric."""
    names = list(results)
    print(f"{'metric':22s}" + "".join(f"{n:>22s}" for n in names))
    for metric in results["customer_360"]:
        print(
            f"{metric:22s}"
            + "".join(f"{results[n].get(metric, float('nan')):22.4f}" for n in names)
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse built by dbt")
    parser.add_argument("--truth", type=Path, required=True, help="truth_person_records.csv")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive Splink baseline")
    args = parser.parse_args(argv)
    print_metrics(evaluate(args.db, args.truth, naive=not args.no_naive))


if __name__ == "__main__":
    main()
