"""Assemble the report site from a built warehouse.

The site is written into a fresh folder beside `out` and swapped in when complete, so a
reader never sees half a report, and a masked report never keeps an unmasked page of an
earlier run. The folder it replaces must be an earlier report (it holds MARKER) or empty.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from sklearn.metrics import roc_auc_score

from c360.churn.classifier import BASELINE_MODEL, CLASSIFIER
from c360.identity import scoring
from c360.report import charts, identity, masking, queries
from c360.report.churn_holdout import holdout_predictions
from c360.report.site import Page, Section, Table, render, write_assets

MARKER = ".c360-report"
REVIEW_COLUMNS = ["first_name", "last_name", "email", "phone_e164", "postal_code", "birth_date"]
NAV = [
    ("index.html", "Overview"),
    ("identity_model.html", "Identity model"),
    ("review.html", "Review"),
    ("quality.html", "Quality"),
    ("churn.html", "Churn"),
]


@dataclass
class Options:
    masked: bool = True
    review_pairs: int = 50  # top of the review queue shown in the comparison viewer
    clusters: int = 10  # customers in each cluster studio
    churn_seed: int = 42  # the build's var churn_seed (the CLI reads dbt_project.yml)
    model: str | None = None  # the identity model the build scored with (None: committed)


def project_var(project_dir: Path, name: str) -> object:
    """A var of dbt_project.yml (the value the build used unless --vars overrode it)."""
    path = project_dir / "dbt_project.yml"
    variables = yaml.safe_load(path.read_text()).get("vars", {})
    if name not in variables:
        raise KeyError(f"var {name} is not in {path}")
    return variables[name]


def build_report(db: Path, out: Path, options: Options) -> dict[str, float]:
    """Write the site for warehouse `db` into `out`; seconds per part."""
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    work.chmod(0o755)  # mkdtemp's folder is private; the report is read by others
    try:
        timings = _write_site(db, work, options)
        (work / MARKER).write_text("written by python -m c360.report\n")
        _swap(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return timings


def _check_replaceable(out: Path) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(
            f"{out} exists and is not a report folder (no {MARKER}): choose another --out"
        )


def _swap(new: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old.{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    if old.exists():
        shutil.rmtree(old)


def _write_site(db: Path, out: Path, options: Options) -> dict[str, float]:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(part: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[part] = round(now - clock, 2)
        clock = now

    built_at = dt.datetime.fromtimestamp(db.stat().st_mtime, dt.UTC).replace(tzinfo=None)
    with queries.connect(str(db)) as con:
        queries.check_relations(con)
        population = queries.matching_records(con)
        review = queries.review_pairs(con, options.review_pairs)
        queue_size = queries.review_queue_size(con)
        largest = queries.largest_customers(con, options.clusters)
        conflicted = queries.conflicted_customers(con, options.clusters)
        chosen = sorted(
            set(largest.column("customer_id").to_pylist())
            | set(conflicted.column("customer_id").to_pylist())
        )
        cluster_pairs = queries.customer_pairs(con, chosen)
        review_ids = sorted(
            set(review.column("person_record_id_l").to_pylist())
            | set(review.column("person_record_id_r").to_pylist())
        )
        records = queries.records_of(con, review_ids)
        cluster_records = queries.records_of_customers(con, chosen)
        quality = queries.identity_quality(con)
        history = queries.match_rate_history(con, built_at)
        data_quality = queries.source_data_quality(con)
        churn_metrics = queries.churn_metrics(con)
        churn_sample = queries.churn_training_sample(con) if churn_metrics.num_rows else None
        drivers = queries.churn_driver_counts(con)
        scored_customers = queries.churn_scored_customers(con)
    lap("read warehouse")

    scripts = write_assets(out)
    mode = "masked" if options.masked else "unmasked"
    scorer = identity.Scorer.over(population, scoring.model_path(options.model))
    lap("splink set-up")

    pages = [
        _identity_model_page(scorer),
    ]
    lap("identity model and blocking")
    review_page, dashboards = _review_page(
        scorer,
        review,
        queue_size,
        records,
        cluster_records,
        cluster_pairs,
        largest,
        conflicted,
        out,
        options,
    )
    pages.append(review_page)
    lap("review and cluster studio")
    pages.append(_quality_page(quality, history, data_quality))
    churn_page, churn_summary = _churn_page(
        churn_metrics, churn_sample, drivers, scored_customers, options
    )
    pages.append(churn_page)
    lap("quality and churn")
    pages.insert(
        0, _index_page(db, quality, queue_size, churn_summary, built_at, dashboards, options)
    )
    for page in pages:
        render(page, out, scripts, NAV, mode)
    lap("pages")
    return timings


# ---------------------------------------------------------------- pages


def _identity_model_page(scorer: identity.Scorer) -> Page:
    model_charts = identity.model_charts(scorer)
    rules, blocking_chart = identity.blocking(scorer)
    prior = scorer.model["probability_two_random_records_match"]
    return Page(
        "identity_model.html",
        "Identity model",
        [
            "The Splink model every build predicts with: src/c360/identity/person_model.json "
            f"(re-estimated by `make train`). Prior: two random records match with probability "
            f"{prior:.3g}.",
        ],
        [
            Section(
                "Match weights",
                [
                    "How much each comparison level moves a pair's match weight (log2 of the "
                    "Bayes factor m/u). Levels to the right push towards a match."
                ],
                charts=[model_charts["match_weights"]],
            ),
            Section(
                "m and u probabilities",
                [
                    "m: how often true matches reach the level; u: how often random pairs do "
                    "(floored at 0.001 for m, see `make train`)."
                ],
                charts=[model_charts["m_u"]],
            ),
            Section(
                "Blocking rules",
                [
                    "Pairs are scored only when they agree on one of these rules, in this order; "
                    "a pair found by an earlier rule is not counted again. Counted exactly over "
                    "every person record of this build. How many true pairs each rule reaches "
                    "needs ground truth: `python -m c360.identity.blocking --truth ...`.",
                ],
                charts=[blocking_chart],
                tables=[
                    Table(
                        ["rule", "comparisons added", "cumulative comparisons"],
                        [
                            [r["rule"], r["marginal_comparisons"], r["cumulative_comparisons"]]
                            for r in rules
                        ],
                    )
                ],
            ),
        ],
    )


def _review_page(
    scorer,
    review,
    queue_size,
    records,
    cluster_records,
    cluster_pairs,
    largest,
    conflicted,
    out,
    options: Options,
) -> tuple[Page, set[str]]:
    """The review page, and the Splink dashboards written beside it (file names)."""
    sections = []
    dashboards = set()
    if review.num_rows:
        waterfall = identity.review(
            scorer, records, review, out / "review_comparison_viewer.html", options.masked
        )
        dashboards.add("review_comparison_viewer.html")
        shown = masking.mask_table(review, REVIEW_COLUMNS) if options.masked else review
        sections.append(
            Section(
                "Pairs to review",
                [
                    f"The {review.num_rows} of {queue_size} pairs in identity_review_queue whose "
                    "decision would move the most records: Splink scored them between "
                    "identity_review_min_probability and the match threshold, so the build did "
                    "not merge them. Record a decision in seed identity_must_link or "
                    "identity_cannot_link.",
                    "The waterfall shows one pair at a time: its record_number is the # of the "
                    "pair in the table below; each bar is one comparison's match weight.",
                ],
                links=[
                    (
                        "review_comparison_viewer.html",
                        "Comparison viewer",
                        "Splink's dashboard of these pairs grouped by which comparison levels "
                        "they reached, each pair with its waterfall",
                    )
                ],
                charts=[waterfall],
                tables=[_review_table(shown)],
            )
        )
    else:
        sections.append(Section("Pairs to review", ["The review queue is empty."]))

    for name, customers, label in (
        ("clusters_largest", largest, _largest_label),
        ("clusters_conflicted", conflicted, _conflict_label),
    ):
        if customers.num_rows == 0:
            continue
        ids = set(customers.column("customer_id").to_pylist())
        identity.cluster_studio(
            scorer,
            cluster_records.filter(
                pc.is_in(cluster_records.column("customer_id"), pa.array(sorted(ids)))
            ),
            _pairs_within(cluster_pairs, cluster_records, ids),
            [(row["customer_id"], label(row)) for row in customers.to_pylist()],
            out / f"{name}.html",
            name,
            options.masked,
        )
        dashboards.add(f"{name}.html")
    links = []
    if "clusters_largest.html" in dashboards:
        links.append(
            (
                "clusters_largest.html",
                "Largest customers",
                f"the {largest.num_rows} customers with the most person records",
            )
        )
    if "clusters_conflicted.html" in dashboards:
        links.append(
            (
                "clusters_conflicted.html",
                "Most conflicted customers",
                "the customers with the most evidence against them: pairs of their own records "
                "Splink scored below the match threshold (joined only through other records), "
                "review-queue pairs touching them, extra first names or birth dates",
            )
        )
    sections.append(
        Section(
            "Clusters",
            [
                "Splink's cluster studio: each customer's records as nodes, the pairs the build "
                "scored between them (and deterministic links) as edges, coloured by the "
                "committed model's probability; click an edge for its waterfall.",
            ],
            links=links,
            tables=[
                Table(
                    [
                        "customer",
                        "records",
                        "weak pairs",
                        "review pairs",
                        "first names",
                        "birth dates",
                    ],
                    [
                        [
                            r["customer_id"],
                            r["records"],
                            r["weak_pairs"],
                            r["review_pairs"],
                            r["first_names"],
                            r["birth_dates"],
                        ]
                        for r in conflicted.to_pylist()
                    ],
                )
            ]
            if conflicted.num_rows
            else [],
        )
    )
    page = Page(
        "review.html",
        "Identity review",
        [
            "Where identity resolution was unsure. Customers with an erasure request are not in "
            "the marts, so never here."
            + (
                " Masked mode: names, emails, phones, postal codes and streets show as the first "
                f"{masking.HASH_CHARS} hex digits of their SHA-256, birth dates as their year."
                if options.masked
                else ""
            ),
        ],
        sections,
    )
    return page, dashboards


def _largest_label(row: dict) -> str:
    return f"{row['customer_id']}: {row['records']} records"


def _conflict_label(row: dict) -> str:
    return (
        f"{row['customer_id']}: {row['records']} records, {row['weak_pairs']} weak pairs, "
        f"{row['review_pairs']} review pairs"
    )


def _pairs_within(pairs: pa.Table, records: pa.Table, customers: set[str]) -> pa.Table:
    owner = dict(
        zip(
            records.column("person_record_id").to_pylist(),
            records.column("customer_id").to_pylist(),
            strict=True,
        )
    )
    keep = [owner.get(left) in customers for left in pairs.column("person_record_id_l").to_pylist()]
    return pairs.filter(pa.array(keep, pa.bool_()))


def _review_table(review: pa.Table) -> Table:
    """One row per pair; each attribute cell holds the left value over the right one."""
    columns = ["#", "records moved", "probability", "records", "customers"]
    columns += [base.replace("_e164", "") for base in REVIEW_COLUMNS]
    columns.append("comparison levels")
    rows = []
    for number, row in enumerate(review.to_pylist()):
        cells: list[object] = [number, row["records_moved_if_merged"]]
        cells.append(round(row["match_probability"], 4))
        for base in ("person_record_id", "customer_id", *REVIEW_COLUMNS):
            cells.append(
                "\n".join(
                    "(null)" if row[f"{base}_{side}"] is None else str(row[f"{base}_{side}"])
                    for side in "lr"
                )
            )
        cells.append(row["comparison_levels"].replace("; ", "\n"))
        rows.append(cells)
    return Table(columns, rows)


def _quality_page(quality, history, data_quality) -> Page:
    history_note = (
        "Identity history is not kept yet, so this build is the only point; the chart reads "
        "c360.report.queries.RELATIONS['identity_quality_history'] once a history table exists "
        "(one row per build and source pair)."
        if queries.RELATIONS["identity_quality_history"] is None
        else "One point per build."
    )
    return Page(
        "quality.html",
        "Quality",
        [
            "How identity resolution went (identity_quality_report) and what each raw table "
            "lost in staging (source_data_quality)."
        ],
        [
            Section("Cluster sizes", [], charts=[charts.cluster_sizes(quality)]),
            Section(
                "Singleton share",
                ["Customers known from one person record only."],
                charts=[charts.singleton_share(quality)],
            ),
            Section(
                "Match rate per source pair",
                [
                    "Of the customers with a record in one source (row), the share that also "
                    "have one in the other (column)."
                ],
                charts=[charts.match_rates(quality)],
            ),
            Section(
                "Match rate over builds",
                [history_note],
                charts=[charts.match_rates_over_builds(history)],
            ),
            Section(
                "Values nulled in staging",
                [
                    "Per raw table and column: the share of rows whose value could not be parsed "
                    "(now NULL) or was a junk placeholder (nulled). The row itself is kept."
                ],
                charts=[charts.nulled_share(data_quality)],
                tables=[
                    Table(
                        ["raw table", "column", "issue", "rows nulled", "rows", "share"],
                        [
                            [
                                r["source_table"],
                                r["column_name"],
                                r["issue"],
                                r["affected_rows"],
                                r["rows_in_table"],
                                f"{r['affected_share']:.2%}",
                            ]
                            for r in data_quality.to_pylist()
                            if r["affected_rows"]
                        ],
                    )
                ],
            ),
        ],
    )


def _churn_page(metrics, sample, drivers, scored_customers, options: Options):
    if metrics.num_rows == 0:
        page = Page(
            "churn.html",
            "Churn",
            [
                "No churn model this build: too little labelled history (churn_model_metrics is "
                "empty)."
            ],
            [],
        )
        return page, None
    rows = metrics.to_pylist()
    value = {(r["model_name"], r["metric"]): r["metric_value"] for r in rows}
    first = rows[0]
    holdout = holdout_predictions(
        sample, seed=options.churn_seed, max_training_rows=first["training_rows"]
    )
    aucs = {
        CLASSIFIER: float(roc_auc_score(holdout.labels, holdout.classifier)),
        BASELINE_MODEL: float(roc_auc_score(holdout.labels, holdout.baseline)),
    }
    agree = all(abs(aucs[m] - value[(m, "roc_auc")]) < 1e-9 for m in aucs)
    check = (
        "The curves' AUCs equal churn_model_metrics' roc_auc: they are the build's holdout "
        "predictions."
        if agree
        else "Warning: the curves' AUCs differ from churn_model_metrics' roc_auc (the build "
        "ran with another churn_seed or cap than dbt_project.yml has?): "
        + ", ".join(f"{m} {aucs[m]:.4f} vs {value[(m, 'roc_auc')]:.4f}" for m in aucs)
    )
    summary = {
        "holdout": str(first["holdout_snapshot_date"]),
        "classifier_auc": value[(CLASSIFIER, "roc_auc")],
        "baseline_auc": value[(BASELINE_MODEL, "roc_auc")],
        "agree": agree,
    }
    page = Page(
        "churn.html",
        "Churn",
        [
            f"The churn classifier beside the recency baseline (days since the last order) on "
            f"the holdout snapshot {first['holdout_snapshot_date']}: "
            f"{first['holdout_rows']:,d} customers, trained on {first['training_rows']:,d} rows "
            f"of {first['training_snapshots']} earlier snapshots. {check}",
        ],
        [
            Section(
                "ROC",
                [],
                charts=[
                    charts.roc(
                        holdout.labels,
                        {CLASSIFIER: holdout.classifier, BASELINE_MODEL: holdout.baseline},
                        aucs,
                    )
                ],
                tables=[
                    Table(
                        ["model", "metric", "value"],
                        [[r["model_name"], r["metric"], round(r["metric_value"], 4)] for r in rows],
                    )
                ],
            ),
            Section(
                "Calibration",
                [
                    "Holdout customers in ten equal groups by predicted probability: mean "
                    "prediction against the share that churned. On the dashed line the "
                    "probabilities can be read as rates."
                ],
                charts=[charts.calibration(holdout.labels, holdout.classifier)],
            ),
            Section(
                "Drivers",
                [
                    f"Over the {scored_customers:,d} customers scored at the latest snapshot "
                    "(customer_churn_scores): how often each feature is one of the three that "
                    "push the customer's churn probability up most (occlusion, see README)."
                ],
                charts=[charts.driver_importance(drivers)] if drivers.num_rows else [],
            ),
        ],
    )
    return page, summary


def _index_page(db, quality, queue_size, churn, built_at, dashboards, options: Options) -> Page:
    overall = {
        r["dimension"]: r["metric_value"]
        for r in quality.to_pylist()
        if r["metric_group"] == "overall"
    }
    figures = [
        ["customers", f"{overall.get('customers', 0):,.0f}"],
        ["person records", f"{overall.get('person_records', 0):,.0f}"],
        ["singleton share", f"{overall.get('singleton_share', 0):.1%}"],
        ["pairs in the review queue", f"{queue_size:,d}"],
    ]
    if churn:
        figures += [
            ["churn holdout snapshot", churn["holdout"]],
            [
                "churn ROC AUC: classifier / recency baseline",
                f"{churn['classifier_auc']:.3f} / {churn['baseline_auc']:.3f}",
            ],
        ]
    mode_text = (
        "Masked mode (the default): personal values show as short SHA-256 hashes, birth dates "
        "as their year. `make report MASKED=0` shows them in clear for identity reviewers."
        if options.masked
        else "Unmasked mode: names, emails, phones and addresses of the records under review "
        "are shown in clear. Keep this copy with the people who review identity."
    )
    return Page(
        "index.html",
        "customer_360 report",
        [
            f"Warehouse {db} (written {built_at:%Y-%m-%d %H:%M} UTC), read read-only. "
            f"Report generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
            mode_text,
        ],
        [
            Section("This build", [], tables=[Table(["", ""], figures)]),
            Section(
                "Pages",
                [],
                links=[
                    link
                    for link in _index_links(options)
                    if not link[0].startswith(("review_", "clusters_")) or link[0] in dashboards
                ],
            ),
            Section(
                "How it is made",
                [
                    "`make report` (python -m c360.report) after `make build`. Every page opens "
                    "from the file system and loads nothing from the network: the charts are "
                    "Vega-Lite (altair, and Splink's own chart and dashboard code) drawn by the "
                    "vega scripts Splink's wheel carries, copied to assets/. Every warehouse read "
                    "is in c360.report.queries. Customers with an erasure request are in no "
                    "mart, so on no page.",
                    "Blocking rules: those of the model in use (identity page); review pairs "
                    f"shown: {options.review_pairs}; customers per cluster studio: "
                    f"{options.clusters}.",
                ],
            ),
        ],
    )


def _index_links(options: Options) -> list[tuple[str, str, str]]:
    return [
        (
            "identity_model.html",
            "Identity model",
            "match weights and m/u probabilities of the committed Splink model; "
            "comparisons per blocking rule",
        ),
        (
            "review.html",
            "Review",
            f"the top {options.review_pairs} pairs of the review queue with their "
            "waterfalls; links to Splink's comparison viewer and cluster studio",
        ),
        (
            "review_comparison_viewer.html",
            "Comparison viewer (Splink)",
            "the review pairs by comparison vector",
        ),
        ("clusters_largest.html", "Cluster studio: largest customers (Splink)", ""),
        ("clusters_conflicted.html", "Cluster studio: most conflicted customers (Splink)", ""),
        (
            "quality.html",
            "Quality",
            "cluster sizes, singleton share, match rates per source pair, values nulled in staging",
        ),
        (
            "churn.html",
            "Churn",
            "ROC of the classifier and the recency baseline, calibration, drivers",
        ),
    ]
