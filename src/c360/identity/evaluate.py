"""Score customer ids against ground truth or reviewers' labels, beside plain Splink.

    python -m c360.identity.evaluate --db WAREHOUSE [--truth RAW_DIR/truth_person_records.csv]
        [--baselines naive,febrl_example | --no-naive] [--threshold T]

With a truth file (generated data, FEBRL): pairwise precision/recall/F1 count co-clustered
record pairs; B-cubed averages, per record, how much of its cluster is the same person
(precision) and how much of the person its cluster holds (recall); beside the build's own
pairs without the guards and plain Splink set-ups on the same records. Ground truth is read
here and in tests only, never by a model.
Without one (a user's own data), the reviewers' decisions are the truth: pairs of seeds
identity_pair_labels, identity_must_link and identity_cannot_link. Precision and recall
of the build's decisions on those pairs, and of what the model and guards alone (no
override) decide at a range of match thresholds, with the threshold that does best.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from c360.identity.workbench import PAIRS_SQL, records_sql

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


def match_threshold(given: float | None = None) -> float:
    """The threshold the build used: `given` (--threshold, for a build run with `--vars`),
    else var identity_match_threshold as dbt_project.yml sets it. The warehouse does not
    record the var, so a build with another value needs the option."""
    if given is not None:
        if not 0 < given <= 1:
            raise ValueError(f"--threshold {given}: a match probability must be in (0, 1]")
        return given
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return float(project["vars"]["identity_match_threshold"])


def unguarded_clusters(db: Path, records: pa.Table, threshold: float | None = None) -> pa.Table:
    """The build's own scored and deterministic pairs as plain connected components at the
    build's threshold: the same evidence without the guards, to show what they are worth."""
    from c360.identity.clustering import cluster_records

    with duckdb.connect(str(db), read_only=True) as con:
        pairs = con.sql(PAIRS_SQL).arrow().read_all()
    clustered, _ = cluster_records(records, pairs, match_threshold(threshold), guarded=False)
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


def evaluate(
    db: Path,
    truth_path: Path,
    naive: bool = True,
    baselines: tuple[str, ...] | None = None,
    threshold: float | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of the build's customer_identifiers, of its pairs without guards and of plain
    Splink set-ups (c360.identity.naive; `naive` alone means ("naive",)) on the same
    records; each baseline also carries `seconds`, its wall time as a script of its own
    (Python start, imports, training, prediction, clustering). The naive one is reported
    as naive_splink, others as splink_<set-up>. `threshold`: the build's (match_threshold)."""
    from c360.identity.naive import timed_naive_clusters

    if baselines is None:
        baselines = ("naive",) if naive else ()
    truth = read_truth(truth_path)
    with duckdb.connect(str(db), read_only=True) as con:
        ours = con.sql(IDENTIFIERS_SQL).arrow().read_all()
        records = con.sql(records_sql()).arrow().read_all()
    results = {"customer_360": cluster_metrics(ours, truth)}
    results["same_pairs_no_guards"] = cluster_metrics(
        unguarded_clusters(db, records, threshold), truth
    )
    for setup in baselines:
        clusters, seconds = timed_naive_clusters(records, setup)
        name = "naive_splink" if setup == "naive" else f"splink_{setup}"
        results[name] = {**cluster_metrics(clusters, truth), "seconds": seconds}
    return results


LABELS_SQL = """
    select record_id_a, record_id_b, is_same_person, 'identity_pair_labels' as seed
    from reference.identity_pair_labels
    union all
    select record_id_a, record_id_b, true, 'identity_must_link' from reference.identity_must_link
    union all
    select record_id_a, record_id_b, false, 'identity_cannot_link'
    from reference.identity_cannot_link
"""
SWEEP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def label_metrics(clusters: dict[str, str], labels: list[tuple[str, str, bool]]) -> dict:
    """Precision, recall and F1 of `clusters` (record -> customer) on labelled pairs."""
    tp = fp = fn = tn = 0
    for a, b, same in labels:
        together = clusters.get(a) is not None and clusters.get(a) == clusters.get(b)
        if same:
            tp, fn = tp + together, fn + (not together)
        else:
            fp, tn = fp + together, tn + (not together)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "labelled_pairs": tp + fp + fn + tn,
        "same_person": tp + fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def evaluate_labels(
    db: Path, thresholds: tuple[float, ...] = SWEEP_THRESHOLDS, build_threshold: float | None = None
) -> dict:
    """The build and the model + guards without overrides, on reviewers' labelled pairs.

    The labels come from the review queue, the uncertain band: figures on them are those
    of the hard cases, not of the whole warehouse. The build applies the override seeds,
    so it agrees with them by construction; the sweep re-clusters the build's scored and
    deterministic pairs with the guards and no override at each threshold, which is what
    the model alone decides, and suggests the threshold with the best F1 (the higher one
    on a tie: precision first). `build_threshold`: the build's (match_threshold)."""
    from c360.identity.clustering import GUARD_COLUMNS, cluster_records

    with duckdb.connect(str(db), read_only=True) as con:
        labels = [
            (a, b, bool(same))
            for a, b, same, _ in con.sql(LABELS_SQL).fetchall()
            if a is not None and b is not None
        ]
        build = dict(con.sql(IDENTIFIERS_SQL).fetchall())
        records = con.sql(records_sql(GUARD_COLUMNS)).arrow().read_all()
        pairs = con.sql(PAIRS_SQL).arrow().read_all()
    result = {
        "build": label_metrics(build, labels),
        "build_threshold": match_threshold(build_threshold),
        "thresholds": {},
    }
    for threshold in thresholds:
        clustered, _ = cluster_records(records, pairs, threshold)
        clusters = dict(
            zip(
                clustered.column("person_record_id").to_pylist(),
                clustered.column("customer_id").to_pylist(),
                strict=True,
            )
        )
        result["thresholds"][threshold] = label_metrics(clusters, labels)
    best = max(result["thresholds"].items(), key=lambda item: (item[1]["f1"], item[0]))
    result["suggested_threshold"] = best[0]
    return result


def print_label_metrics(result: dict) -> None:
    build = result["build"]
    print(
        f"reviewers' labelled pairs: {build['labelled_pairs']:,d} "
        f"({build['same_person']:,d} same person)"
    )
    if not build["labelled_pairs"]:
        print(
            "no labels yet: review identity_review_queue and record decisions in seeds "
            "identity_pair_labels, identity_must_link or identity_cannot_link"
        )
        return
    print(f"{'decided by':28s}{'precision':>12s}{'recall':>12s}{'F1':>12s}")
    print(
        f"{'build (overrides applied)':28s}"
        f"{build['precision']:12.4f}{build['recall']:12.4f}{build['f1']:12.4f}"
    )
    for threshold, metrics in result["thresholds"].items():
        print(
            f"{f'model + guards at {threshold}':28s}"
            f"{metrics['precision']:12.4f}{metrics['recall']:12.4f}{metrics['f1']:12.4f}"
        )
    print(
        f"suggested identity_match_threshold: {result['suggested_threshold']} "
        f"(build uses {result['build_threshold']})"
    )


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
    parser.add_argument(
        "--truth", type=Path, help="truth_person_records.csv (absent: reviewers' labels only)"
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the plain Splink baselines")
    parser.add_argument(
        "--baselines",
        default="naive",
        help="comma-separated plain Splink set-ups to run beside (naive, febrl_example)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="identity_match_threshold the build used, when set with --vars "
        "(default: dbt_project.yml's)",
    )
    args = parser.parse_args(argv)
    threshold = match_threshold(args.threshold)
    if args.truth is not None and args.truth.is_file():
        baselines = () if args.no_naive else tuple(filter(None, args.baselines.split(",")))
        print(f"match threshold {threshold}")
        print_metrics(evaluate(args.db, args.truth, baselines=baselines, threshold=threshold))
    else:
        where = f" at {args.truth}" if args.truth is not None else ""
        print(f"no truth file{where}: scoring against reviewers' labels")
    print_label_metrics(evaluate_labels(args.db, build_threshold=threshold))


if __name__ == "__main__":
    main()
