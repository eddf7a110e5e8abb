"""The report's own charts (quality and churn), declared with altair; Vega-Lite specs out.

Each function takes rows already read from the marts and returns a spec dict, so a chart
can be checked without a browser. Only marks and encodings that the Vega-Lite bundled with
Splink (5.2) draws are used.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

WIDTH = 520


def _spec(chart: alt.TopLevelMixin) -> dict:
    return chart.to_dict()


def _rows(table) -> list[dict[str, Any]]:
    return table.to_pylist()


# ---------------------------------------------------------------- identity quality


def cluster_sizes(quality) -> dict:
    """Customers per number of person records (identity_quality_report, cluster_size)."""
    rows = [r for r in _rows(quality) if r["metric_group"] == "cluster_size"]
    order = sorted((r["dimension"] for r in rows), key=lambda d: int(d.rstrip("+")))
    chart = (
        alt.Chart(alt.Data(values=rows), title="Customers by number of person records")
        .mark_bar()
        .encode(
            x=alt.X("dimension:O", sort=order, title="person records in the customer"),
            y=alt.Y("metric_value:Q", title="customers"),
            tooltip=[
                alt.Tooltip("dimension:O", title="records"),
                alt.Tooltip("metric_value:Q", title="customers", format=",.0f"),
            ],
        )
        .properties(width=WIDTH, height=260)
    )
    return _spec(chart)


def singleton_share(quality) -> dict:
    """Customers with one person record against the rest, with the mart's share."""
    overall = {
        r["dimension"]: r["metric_value"] for r in _rows(quality) if r["metric_group"] == "overall"
    }
    sizes = {
        r["dimension"]: r["metric_value"]
        for r in _rows(quality)
        if r["metric_group"] == "cluster_size"
    }
    customers = overall.get("customers", 0.0)
    singles = sizes.get("1", 0.0)
    rows = (
        [
            {"customers": "one record", "count": singles, "share": singles / customers},
            {
                "customers": "several records",
                "count": customers - singles,
                "share": (customers - singles) / customers,
            },
        ]
        if customers
        else []
    )
    share = overall.get("singleton_share", 0.0)
    base = alt.Chart(
        alt.Data(values=rows), title=f"Singleton share: {share:.1%} of {customers:,.0f} customers"
    ).encode(
        x=alt.X(
            "sum(count):Q", stack="normalize", title="share of customers", axis=alt.Axis(format="%")
        ),
        color=alt.Color("customers:N", title=None),
        order=alt.Order("customers:N"),
        tooltip=[
            alt.Tooltip("customers:N"),
            alt.Tooltip("count:Q", format=",.0f", title="customers"),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    return _spec(base.mark_bar().properties(width=WIDTH, height=60))


def _split_pair(dimension: str) -> tuple[str, str]:
    source_l, _, source_r = dimension.partition(" -> ")
    return source_l, source_r


def match_rates(quality) -> dict:
    """Share of the customers with a record in one source that also have one in another."""
    rows = []
    for r in _rows(quality):
        if r["metric_group"] == "match_rate":
            source_l, source_r = _split_pair(r["dimension"])
            rows.append({"from": source_l, "to": source_r, "rate": r["metric_value"]})
    base = alt.Chart(
        alt.Data(values=rows),
        title="Match rate: of the customers in the row's source, the share also in the column's",
    ).encode(
        x=alt.X("to:N", title="also in"),
        y=alt.Y("from:N", title="customers with a record in"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("rate:Q", title="match rate", scale=alt.Scale(domain=[0, 1])),
        tooltip=["from:N", "to:N", alt.Tooltip("rate:Q", format=".1%")],
    )
    labels = base.mark_text().encode(text=alt.Text("rate:Q", format=".0%"))
    return _spec((cells + labels).properties(width=WIDTH * 0.7, height=220))


def match_rates_over_builds(history) -> dict:
    """Match rate per source pair per build (one point per pair until history is kept)."""
    rows = [{**r, "built_at": r["built_at"].isoformat()} for r in _rows(history)]
    chart = (
        alt.Chart(alt.Data(values=rows), title="Match rate per source pair over builds")
        .mark_line(point=True)
        .encode(
            x=alt.X("built_at:T", title="build", axis=alt.Axis(format="%Y-%m-%d %H:%M")),
            y=alt.Y("metric_value:Q", title="match rate", axis=alt.Axis(format="%")),
            color=alt.Color("dimension:N", title="source pair"),
            tooltip=[
                alt.Tooltip("built_at:T", format="%Y-%m-%d %H:%M"),
                "dimension:N",
                alt.Tooltip("metric_value:Q", format=".1%", title="match rate"),
            ],
        )
        .properties(width=WIDTH, height=240)
    )
    return _spec(chart)


def nulled_share(data_quality) -> dict:
    """Share of each raw table's rows whose value of a column was nulled, per issue."""
    rows = _rows(data_quality)
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_rect()
        .encode(
            x=alt.X("column_name:N", title="column"),
            y=alt.Y("source_table:N", title="raw table"),
            # a checked column that lost nothing is grey, not the palest orange
            color=alt.condition(
                alt.datum.affected_share > 0,
                alt.Color(
                    "affected_share:Q",
                    title="share nulled",
                    scale=alt.Scale(scheme="orangered"),
                    legend=alt.Legend(format="%"),
                ),
                alt.value("#eeeeee"),
            ),
            row=alt.Row("issue:N", title="issue"),
            tooltip=[
                "source_table:N",
                "column_name:N",
                "issue:N",
                alt.Tooltip("affected_rows:Q", format=",.0f", title="rows nulled"),
                alt.Tooltip("rows_in_table:Q", format=",.0f", title="rows"),
                alt.Tooltip("affected_share:Q", format=".2%", title="share"),
            ],
        )
        .properties(title="Share of rows nulled in staging, per raw table and column")
    )
    return _spec(chart)


# ---------------------------------------------------------------- churn


def roc(labels: np.ndarray, scores: dict[str, np.ndarray], aucs: dict[str, float]) -> dict:
    """ROC curves on the holdout, one per model; the legend carries each model's AUC."""
    rows = []
    for model, score in scores.items():
        fpr, tpr, _ = roc_curve(labels, score)
        name = f"{model} (AUC {aucs[model]:.3f})"
        rows += [{"model": name, "fpr": f, "tpr": t} for f, t in zip(fpr, tpr, strict=True)]
    curves = (
        alt.Chart(alt.Data(values=rows), title="ROC on the holdout snapshot")
        .mark_line()
        .encode(
            x=alt.X("fpr:Q", title="false positive rate"),
            y=alt.Y("tpr:Q", title="true positive rate"),
            color=alt.Color(
                "model:N",
                title=None,
                legend=alt.Legend(orient="bottom", labelLimit=400, direction="vertical"),
            ),
            order="fpr:Q",
        )
    )
    chance = (
        alt.Chart(alt.Data(values=[{"a": 0.0}, {"a": 1.0}]))
        .mark_line(strokeDash=[4, 4], color="#999")
        .encode(x="a:Q", y="a:Q")
    )
    return _spec((chance + curves).properties(width=380, height=380))


def calibration(labels: np.ndarray, probability: np.ndarray, bins: int = 10) -> dict:
    """Observed churn rate against mean predicted probability, per decile of prediction."""
    observed, predicted = calibration_curve(labels, probability, n_bins=bins, strategy="quantile")
    rows = [{"predicted": p, "observed": o} for p, o in zip(predicted, observed, strict=True)]
    points = (
        alt.Chart(alt.Data(values=rows), title="Calibration on the holdout (deciles of prediction)")
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "predicted:Q", title="mean predicted probability", scale=alt.Scale(domain=[0, 1])
            ),
            y=alt.Y("observed:Q", title="observed churn rate", scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("predicted:Q", format=".3f"),
                alt.Tooltip("observed:Q", format=".3f"),
            ],
        )
    )
    perfect = (
        alt.Chart(alt.Data(values=[{"a": 0.0}, {"a": 1.0}]))
        .mark_line(strokeDash=[4, 4], color="#999")
        .encode(x="a:Q", y="a:Q")
    )
    return _spec((perfect + points).properties(width=380, height=380))


def driver_importance(drivers) -> dict:
    """How many customers have each feature among the three drivers of their churn risk."""
    rows = [{**r, "driver": f"driver {r['driver_rank']}"} for r in _rows(drivers)]
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["feature"]] = totals.get(r["feature"], 0) + r["customers"]
    order = sorted(totals, key=lambda f: (-totals[f], f))
    chart = (
        alt.Chart(
            alt.Data(values=rows),
            title="Churn drivers: customers with the feature among their top three",
        )
        .mark_bar()
        .encode(
            y=alt.Y("feature:N", sort=order, title=None),
            x=alt.X("sum(customers):Q", title="customers"),
            color=alt.Color("driver:O", title="rank"),
            order=alt.Order("driver_rank:O"),
            tooltip=["feature:N", "driver:O", alt.Tooltip("customers:Q", format=",.0f")],
        )
        .properties(width=WIDTH)
    )
    return _spec(chart)
