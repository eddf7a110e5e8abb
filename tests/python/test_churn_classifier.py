"""The churn classifier (c360.churn) on synthetic feature tables with a known signal."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from c360.churn import NotEnoughHistory, evaluate_model, score_latest

SNAPSHOTS = [dt.date(2025, month, 1) for month in range(1, 9)]


def features(customers: int = 1500, seed: int = 0, random_labels: bool = False) -> pa.Table:
    """Customers x monthly snapshots; churn rises with recency and, independently of it, with
    unresolved complaints and a decline in orders. The last two snapshots are unlabelled."""
    rng = np.random.default_rng(seed)
    rows = customers * len(SNAPSHOTS)
    recency = rng.integers(1, 365, rows)
    complaints = rng.poisson(0.3, rows)
    trend = rng.integers(-4, 4, rows)
    logit = 0.01 * (recency - 120) + 1.5 * complaints - 0.6 * trend - 0.5
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    if random_labels:
        churned = rng.random(rows) < 0.5
    snapshot = np.repeat(np.array(SNAPSHOTS, dtype="datetime64[D]"), customers)
    customer = np.tile([f"cus_{i:05d}" for i in range(customers)], len(SNAPSHOTS))
    labelled = snapshot < np.datetime64(SNAPSHOTS[-2])
    tier = rng.choice(np.array(["bronze", "gold", None], dtype=object), rows)
    return pa.table(
        {
            "churn_feature_id": [f"{c}|{s}" for c, s in zip(customer, snapshot, strict=True)],
            "customer_id": customer,
            "loyalty_tier": pa.array(tier, pa.string()),
            "days_since_last_order": recency,
            "days_since_last_web_session": pa.array(
                np.where(rng.random(rows) < 0.3, np.nan, rng.integers(1, 180, rows)),
                from_pandas=True,
            ),
            "unresolved_complaints": complaints,
            "orders_trend_90d": trend,
            "has_email_consent": rng.random(rows) < 0.5,
            "churned_next_90d": pa.array(np.where(labelled, churned, None), pa.bool_()),
            "snapshot_date": pa.array(snapshot, pa.date32()),
        }
    )


def metrics(table: pa.Table) -> dict[tuple[str, str], float]:
    rows = table.select(["model_name", "metric", "metric_value"]).to_pylist()
    return {(r["model_name"], r["metric"]): r["metric_value"] for r in rows}


def test_classifier_beats_recency_when_other_signals_matter() -> None:
    result = metrics(evaluate_model(features()))
    classifier = result[("churn_classifier", "roc_auc")]
    baseline = result[("baseline_days_since_last_order", "roc_auc")]
    assert classifier > baseline + 0.05
    assert 0.6 < baseline < 0.8
    assert (
        result[("churn_classifier", "precision_at_top_decile")]
        >= result[("baseline_days_since_last_order", "precision_at_top_decile")]
    )


def test_holdout_is_the_latest_labelled_snapshot_and_training_is_earlier() -> None:
    table = evaluate_model(features(customers=300), max_training_rows=1000)
    assert set(table.column("holdout_snapshot_date").to_pylist()) == {SNAPSHOTS[-3]}
    assert set(table.column("training_rows").to_pylist()) == {1000}
    assert set(table.column("holdout_rows").to_pylist()) == {300}
    assert set(table.column("training_snapshots").to_pylist()) == {5}


def test_random_labels_give_chance_auc() -> None:
    auc = metrics(evaluate_model(features(random_labels=True)))[("churn_classifier", "roc_auc")]
    assert 0.44 < auc < 0.56


def test_only_the_latest_snapshot_is_scored_each_customer_once() -> None:
    scores = score_latest(features(customers=400), high_risk=0.7, medium_risk=0.4)
    assert scores.num_rows == 400
    assert len(set(scores.column("customer_id").to_pylist())) == 400
    assert set(scores.column("snapshot_date").to_pylist()) == {SNAPSHOTS[-1]}
    probability = np.array(scores.column("churn_probability").to_pylist())
    assert ((probability >= 0) & (probability <= 1)).all()
    band = np.array(scores.column("churn_risk_band").to_pylist())
    assert (band[probability >= 0.7] == "high").all()
    assert (band[(probability >= 0.4) & (probability < 0.7)] == "medium").all()
    assert (band[probability < 0.4] == "low").all()


def test_drivers_are_features_and_extreme_recency_leads() -> None:
    table = features(customers=800)
    latest = pc.equal(table.column("snapshot_date"), pa.scalar(SNAPSHOTS[-1], pa.date32()))
    # one customer of the latest snapshot: a year without an order, nothing else unusual
    first = int(np.flatnonzero(latest.to_numpy(zero_copy_only=False))[0])
    recency = table.column("days_since_last_order").to_numpy().copy()
    complaints = table.column("unresolved_complaints").to_numpy().copy()
    trend = table.column("orders_trend_90d").to_numpy().copy()
    recency[first], complaints[first], trend[first] = 364, 0, 0
    table = (
        table.set_column(3, "days_since_last_order", pa.array(recency))
        .set_column(5, "unresolved_complaints", pa.array(complaints))
        .set_column(6, "orders_trend_90d", pa.array(trend))
    )
    scores = score_latest(table)
    customer = table.column("customer_id")[first].as_py()
    row = scores.filter(pc.equal(scores.column("customer_id"), customer)).to_pylist()[0]
    assert row["driver_1"] == "days_since_last_order"
    assert row["top_drivers"].startswith("days_since_last_order=364 (+")
    names = {"loyalty_tier", "days_since_last_web_session", "unresolved_complaints"}
    names |= {"days_since_last_order", "orders_trend_90d", "has_email_consent", None}
    for column in ("driver_1", "driver_2", "driver_3"):
        assert set(scores.column(column).to_pylist()) <= names


def test_same_input_same_output_whatever_the_row_order() -> None:
    table = features(customers=300)
    shuffled = table.take(pa.array(np.random.default_rng(1).permutation(table.num_rows)))
    assert score_latest(table, seed=3).equals(score_latest(shuffled, seed=3))
    assert evaluate_model(table, seed=3).equals(evaluate_model(shuffled, seed=3))


def test_too_little_history_and_bad_input_fail_clearly() -> None:
    table = features(customers=100)
    unlabelled = table.set_column(
        table.schema.get_field_index("churned_next_90d"),
        "churned_next_90d",
        pa.nulls(table.num_rows, pa.bool_()),
    )
    with pytest.raises(NotEnoughHistory, match="no labelled snapshot"):
        score_latest(unlabelled)
    one_snapshot = table.filter(
        pc.greater_equal(table.column("snapshot_date"), pa.scalar(SNAPSHOTS[-3], pa.date32()))
    )
    with pytest.raises(NotEnoughHistory, match="2 labelled snapshots"):
        evaluate_model(one_snapshot)
    one_class = table.set_column(
        table.schema.get_field_index("churned_next_90d"),
        "churned_next_90d",
        pa.array([True] * table.num_rows),
    )
    with pytest.raises(NotEnoughHistory, match="one class"):
        score_latest(one_class)
    with pytest.raises(ValueError, match=r"missing required column.*days_since_last_order"):
        score_latest(table.drop_columns(["days_since_last_order"]))
    with pytest.raises(ValueError, match="thresholds"):
        score_latest(table, high_risk=0.2, medium_risk=0.5)
