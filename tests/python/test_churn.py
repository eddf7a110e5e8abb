"""c360.churn on synthetic churn_features tables with the mart's full feature list: the
classifier, and the registry that stores, chooses and loads its versions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from c360.churn import (
    METRICS_SCHEMA,
    REGISTRY_SCHEMA,
    SCORES_SCHEMA,
    IncompatibleFeatures,
    NotEnoughHistory,
    UnreadableChurnModel,
    classifier,
    evaluate_model,
    feature_types,
    load_model,
    registry,
    score,
    score_latest,
    train_model,
)
from c360.flags import parse_flag

SNAPSHOTS = [dt.date(2025, month, 1) for month in range(1, 9)]
FEATURES = [
    "tenure_days",
    "days_since_last_order",
    "days_since_last_web_session",
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "orders_365d",
    "orders_lifetime",
    "revenue_30d",
    "revenue_90d",
    "revenue_180d",
    "revenue_365d",
    "revenue_lifetime",
    "avg_order_value_365d",
    "orders_prior_90d",
    "revenue_prior_90d",
    "orders_trend_90d",
    "revenue_trend_90d",
    "in_store_share_365d",
    "loyalty_tier",
    "tickets_90d",
    "complaints_90d",
    "unresolved_complaints",
    "tickets_lifetime",
    "web_sessions_30d",
    "web_sessions_90d",
    "web_sessions_prior_90d",
    "web_sessions_trend_90d",
    "product_views_30d",
    "product_views_90d",
    "email_opens_90d",
    "email_clicks_90d",
    "email_opens_prior_90d",
    "email_opens_trend_90d",
    "has_email_consent",
    "has_sms_consent",
    "has_phone_consent",
    "has_ads_consent",
]


def make_features(
    customers: int = 3000,
    snapshots: list[dt.date] = SNAPSHOTS,
    unlabelled: int = 3,
    seed: int = 0,
    random_labels: bool = False,
) -> pa.Table:
    """A churn_features-shaped table: customers x snapshots, the last `unlabelled` snapshots
    without a label. Churn rises with recency and, independently of it, with a decline in
    orders (a drop from the prior 90 days) and unresolved complaints, plus noise."""
    rng = np.random.default_rng(seed)
    rows = customers * len(snapshots)
    frequency = rng.lognormal(np.log(0.4), 0.7, rows)  # orders a month
    decline = rng.normal(0, 0.6, rows)  # log change of the order rate, last 90 days
    aov = rng.lognormal(np.log(60), 0.4, rows)
    orders_prior = rng.poisson(frequency * 3)
    orders_90 = rng.poisson(frequency * 3 * np.exp(-decline))
    orders_30 = rng.binomial(orders_90, 1 / 3)
    orders_365 = orders_90 + orders_prior + rng.poisson(frequency * 6) + 1
    tenure = rng.integers(60, 2500, rows)
    orders_lifetime = orders_365 + rng.poisson(frequency * tenure / 60)
    recency = np.clip(rng.exponential(365 / (orders_365 + 1)), 1, 364).astype(np.int64)
    recency = np.where(orders_90 > 0, np.minimum(recency, 89), np.maximum(recency, 90))
    web_prior = rng.poisson(frequency * 4)
    web_90 = rng.poisson(frequency * 4 * np.exp(-0.5 * decline))
    opens_prior = rng.poisson(3, rows)
    opens_90 = rng.poisson(3, rows)
    tickets = rng.poisson(0.5, rows)
    complaints = rng.binomial(tickets, 0.5)
    unresolved = rng.binomial(complaints, 0.6) + rng.poisson(0.05, rows)
    logit = 0.7 * np.log(recency / 30) + 2.0 * np.clip(decline, 0, None) + 2.5 * unresolved - 1.8
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit - rng.normal(0, 0.3, rows)))
    if random_labels:
        churned = rng.random(rows) < 0.35
    snapshot = np.repeat(np.array(snapshots, dtype="datetime64[D]"), customers)
    customer = np.tile(np.array([f"cus_{i:07d}" for i in range(customers)]), len(snapshots))
    labelled = snapshot < np.datetime64(snapshots[-unlabelled]) if unlabelled else True
    no_web = rng.random(rows) < 0.3
    columns = {
        "churn_feature_id": pc.binary_join_element_wise(
            customer, pa.array(snapshot, pa.date32()).cast(pa.string()), "|"
        ),
        "customer_id": customer,
        "snapshot_date": pa.array(snapshot, pa.date32()),
        "tenure_days": tenure,
        "days_since_last_order": recency,
        "days_since_last_web_session": pa.array(
            np.where(no_web, 0, rng.integers(0, 200, rows)), mask=no_web
        ),
        "orders_30d": orders_30,
        "orders_90d": orders_90,
        "orders_180d": orders_90 + orders_prior,
        "orders_365d": orders_365,
        "orders_lifetime": orders_lifetime,
        "revenue_30d": orders_30 * aov,
        "revenue_90d": orders_90 * aov,
        "revenue_180d": (orders_90 + orders_prior) * aov,
        "revenue_365d": orders_365 * aov,
        "revenue_lifetime": orders_lifetime * aov,
        "avg_order_value_365d": aov,
        "orders_prior_90d": orders_prior,
        "revenue_prior_90d": orders_prior * aov,
        "orders_trend_90d": orders_90 - orders_prior,
        "revenue_trend_90d": (orders_90 - orders_prior) * aov,
        "in_store_share_365d": rng.beta(1, 3, rows),
        "loyalty_tier": pa.array(
            rng.choice(
                np.array([None, "bronze", "silver", "gold"]), rows, p=[0.5, 0.3, 0.15, 0.05]
            ),
            pa.string(),
        ),
        "tickets_90d": tickets,
        "complaints_90d": complaints,
        "unresolved_complaints": unresolved,
        "tickets_lifetime": tickets + rng.poisson(0.8, rows),
        "web_sessions_30d": rng.binomial(web_90, 1 / 3),
        "web_sessions_90d": web_90,
        "web_sessions_prior_90d": web_prior,
        "web_sessions_trend_90d": web_90 - web_prior,
        "product_views_30d": rng.poisson(web_90),
        "product_views_90d": rng.poisson(3 * web_90),
        "email_opens_90d": opens_90,
        "email_clicks_90d": rng.binomial(opens_90, 0.2),
        "email_opens_prior_90d": opens_prior,
        "email_opens_trend_90d": opens_90 - opens_prior,
        "has_email_consent": rng.random(rows) < 0.6,
        "has_sms_consent": rng.random(rows) < 0.3,
        "has_phone_consent": rng.random(rows) < 0.2,
        "has_ads_consent": rng.random(rows) < 0.4,
        "churned_next_90d": pa.array(churned, mask=~(labelled & np.ones(rows, bool))),
    }
    return pa.table(columns)


def with_column(table: pa.Table, name: str, values: object) -> pa.Table:
    """The table with one column replaced (same position, type inferred from values)."""
    return table.set_column(table.schema.get_field_index(name), name, pa.array(values))


def latest_rows(table: pa.Table) -> np.ndarray:
    """Positions of the rows of the latest snapshot."""
    latest = pc.equal(table.column("snapshot_date"), pc.max(table.column("snapshot_date")))
    return np.flatnonzero(latest.to_numpy(zero_copy_only=False))


def metric_values(table: pa.Table) -> dict[str, float]:
    """model_metric_id -> metric value."""
    columns = table.select(["model_metric_id", "metric_value"]).to_pydict()
    return dict(zip(columns["model_metric_id"], columns["metric_value"], strict=True))


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_features()


@pytest.fixture(scope="module")
def metrics(table: pa.Table) -> pa.Table:
    return evaluate_model(table, seed=7)


@pytest.fixture(scope="module")
def extreme() -> tuple[pa.Table, str]:
    """A table where one latest customer has not ordered for 364 days, nothing else unusual,
    and a few latest customers hold a loyalty tier unseen in training."""
    changed = make_features(customers=1000, seed=1)
    first, *others = latest_rows(changed)[:4]
    for name, value in [
        ("days_since_last_order", 364),
        ("unresolved_complaints", 0),
        ("complaints_90d", 0),
        ("orders_trend_90d", 0),
    ]:
        values = changed.column(name).to_numpy().copy()
        values[first] = value
        changed = with_column(changed, name, values)
    tiers = changed.column("loyalty_tier").to_pylist()
    for row in others:
        tiers[row] = "platinum"
    changed = with_column(changed, "loyalty_tier", tiers)
    return changed, changed.column("customer_id")[first].as_py()


@pytest.fixture(scope="module")
def scores(extreme: tuple[pa.Table, str]) -> pa.Table:
    return score_latest(extreme[0], high_risk=0.7, medium_risk=0.4)


def test_classifier_beats_recency_when_decline_and_complaints_matter(metrics: pa.Table) -> None:
    value = metric_values(metrics)
    classifier = value["churn_classifier|roc_auc"]
    baseline = value["baseline_days_since_last_order|roc_auc"]
    assert 0.6 < baseline < 0.75  # recency carries signal, but not all of it
    assert classifier > baseline + 0.05
    assert (
        value["churn_classifier|precision_at_top_decile"]
        > value["baseline_days_since_last_order|precision_at_top_decile"] + 0.1
    )
    assert (
        value["churn_classifier|holdout_positive_rate"]
        == value["baseline_days_since_last_order|holdout_positive_rate"]
    )


def test_metrics_are_measured_on_the_latest_labelled_snapshot(metrics: pa.Table) -> None:
    assert metrics.schema == METRICS_SCHEMA
    assert sorted(metrics.column("model_metric_id").to_pylist()) == sorted(
        f"{model}|{metric}"
        for model in ("churn_classifier", "baseline_days_since_last_order")
        for metric in ("roc_auc", "precision_at_top_decile", "holdout_positive_rate")
    )
    # snapshots 1-5 are labelled: train on 1-4, hold out 5
    assert set(metrics.column("holdout_snapshot_date").to_pylist()) == {SNAPSHOTS[4]}
    assert set(metrics.column("training_snapshots").to_pylist()) == {4}
    assert set(metrics.column("training_rows").to_pylist()) == {4 * 3000}
    assert set(metrics.column("holdout_rows").to_pylist()) == {3000}


def test_training_rows_are_capped(table: pa.Table) -> None:
    capped = evaluate_model(table.slice(0, 3000 * 5), max_training_rows=2000)
    assert set(capped.column("training_rows").to_pylist()) == {2000}
    assert set(capped.column("training_snapshots").to_pylist()) == {4}


def test_random_labels_give_chance_auc() -> None:
    value = metric_values(evaluate_model(make_features(customers=2000, random_labels=True)))
    assert 0.45 < value["churn_classifier|roc_auc"] < 0.55


def test_precision_at_top_decile_counts_the_top_tenth_breaking_ties_by_customer() -> None:
    features = make_features(customers=1000, unlabelled=0).slice(0, 2000)
    # holdout: every customer has the same recency; the first 100 by customer_id churn
    holdout = np.arange(2000) >= 1000
    recency = np.where(holdout, 30, features.column("days_since_last_order").to_numpy())
    labels = features.column("churned_next_90d").to_numpy(zero_copy_only=False)
    labels = np.where(holdout, np.arange(2000) < 1100, labels)
    features = with_column(features, "days_since_last_order", recency)
    features = with_column(features, "churned_next_90d", labels)
    shuffled = features.take(np.random.default_rng(3).permutation(2000))
    value = metric_values(evaluate_model(shuffled))
    assert value["baseline_days_since_last_order|precision_at_top_decile"] == 1.0
    assert value["baseline_days_since_last_order|roc_auc"] == 0.5
    assert value["baseline_days_since_last_order|holdout_positive_rate"] == 0.1


def test_only_the_latest_snapshot_is_scored_each_customer_once(scores: pa.Table) -> None:
    assert scores.schema == SCORES_SCHEMA
    assert scores.num_rows == 1000
    assert len(set(scores.column("customer_id").to_pylist())) == 1000
    assert set(scores.column("snapshot_date").to_pylist()) == {SNAPSHOTS[-1]}


def test_probabilities_and_bands_follow_the_thresholds(scores: pa.Table) -> None:
    probability = scores.column("churn_probability").to_numpy()
    band = np.array(scores.column("churn_risk_band").to_pylist())
    assert ((probability >= 0) & (probability <= 1)).all()
    assert (
        band == np.where(probability >= 0.7, "high", np.where(probability >= 0.4, "medium", "low"))
    ).all()
    assert {"high", "medium", "low"} <= set(band)


def test_drivers_are_features_pushing_risk_up_in_order(scores: pa.Table) -> None:
    rows = scores.to_pylist()
    assert sum(row["driver_1"] is not None for row in rows) > 500
    for row in rows:
        drivers = [row["driver_1"], row["driver_2"], row["driver_3"]]
        named = [d for d in drivers if d is not None]
        assert drivers[: len(named)] == named  # NULLs only after the named drivers
        assert set(named) <= set(FEATURES)
        if not named:
            assert row["top_drivers"] is None
            continue
        parts = row["top_drivers"].split("; ")
        assert [part.split("=")[0] for part in parts] == named
        pushes = [float(part.rsplit("(+", 1)[1].rstrip(")")) for part in parts]
        assert pushes == sorted(pushes, reverse=True) and min(pushes) > 0


def test_a_year_without_an_order_is_the_top_driver(
    scores: pa.Table, extreme: tuple[pa.Table, str]
) -> None:
    row = scores.filter(pc.equal(scores.column("customer_id"), extreme[1])).to_pylist()[0]
    assert row["driver_1"] == "days_since_last_order"
    assert row["top_drivers"].startswith("days_since_last_order=364 (+")


def test_a_new_feature_in_the_sql_flows_through() -> None:
    features = make_features(customers=600, seed=4)
    signal = np.random.default_rng(5).random(features.num_rows)
    labels = pc.if_else(
        pc.is_valid(features.column("churned_next_90d")), pa.array(signal > 0.7), None
    )
    features = with_column(features, "churned_next_90d", labels).append_column(
        "returns_share_90d", pa.array(signal)
    )
    value = metric_values(evaluate_model(features))
    assert value["churn_classifier|roc_auc"] > 0.95
    high = score_latest(features).filter(pc.greater(pc.field("churn_probability"), 0.9))
    assert high.num_rows > 0
    assert set(high.column("driver_1").to_pylist()) == {"returns_share_90d"}


def test_same_input_and_seed_give_the_same_output_whatever_the_row_order() -> None:
    features = make_features(customers=300, seed=2)
    shuffled = features.take(np.random.default_rng(1).permutation(features.num_rows))
    assert score_latest(features, seed=3).equals(score_latest(shuffled, seed=3))
    assert evaluate_model(features, seed=3, max_training_rows=1000).equals(
        evaluate_model(shuffled, seed=3, max_training_rows=1000)
    )


def test_occlusion_in_two_threads_pushes_exactly_as_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    features = make_features(customers=300, seed=4)
    train = classifier._sample(classifier._labelled(features), 100_000, 0)
    model, encoded = classifier._fit(train, 0)
    matrix = classifier._matrix(train, encoded)
    probability = model.predict_proba(matrix)[:, 1]
    typical = classifier._typical_values(matrix, encoded)
    every = list(range(matrix.shape[1]))
    # small batches, so that many are in flight at once in the two threads
    monkeypatch.setattr(classifier, "OCCLUSION_BATCH_ROWS", 500)
    one = classifier._occlusion_push(model, matrix, probability, typical, every, workers=1)
    two = classifier._occlusion_push(model, matrix, probability, typical, every, workers=2)
    assert np.count_nonzero(one) > matrix.shape[0]  # features did move probabilities
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("column", ["days_since_last_order", "customer_id", "snapshot_date"])
def test_a_missing_required_column_is_named(column: str) -> None:
    features = make_features(customers=50).drop_columns([column])
    for function in (evaluate_model, score_latest):
        with pytest.raises(ValueError, match=f"missing required column.*{column}"):
            function(features)


def test_too_little_history_fails_clearly() -> None:
    features = make_features(customers=200)
    label = "churned_next_90d"
    unlabelled = with_column(features, label, pa.nulls(features.num_rows, pa.bool_()))
    for function in (evaluate_model, score_latest):
        with pytest.raises(NotEnoughHistory, match=r"no labelled snapshot|found 0"):
            function(unlabelled)
    one_snapshot = make_features(customers=200, snapshots=SNAPSHOTS[:2], unlabelled=1)
    with pytest.raises(NotEnoughHistory, match="2 labelled snapshots, found 1"):
        evaluate_model(one_snapshot)
    one_class = with_column(
        features, label, pc.if_else(pc.is_valid(features.column(label)), True, None)
    )
    for function in (evaluate_model, score_latest):
        with pytest.raises(NotEnoughHistory, match="one class"):
            function(one_class)
    assert issubclass(NotEnoughHistory, ValueError)
    with pytest.raises(ValueError, match="thresholds"):
        score_latest(features, high_risk=0.2, medium_risk=0.5)


# --- the registry: a trained version stored, loaded and chosen (c360.churn.registry) ---

AS_OF = dt.date(2025, 9, 1)


@pytest.fixture(scope="module")
def small() -> pa.Table:
    return make_features(customers=800, seed=6)


@pytest.fixture(scope="module")
def stored(small: pa.Table) -> pa.Table:
    """A registry holding version 1, trained as of AS_OF on `small`."""
    rows, message = registry.update_registry(
        REGISTRY_SCHEMA.empty_table(),
        lambda: classifier._labelled(small),
        as_of=AS_OF,
        types=feature_types(small),
        max_age_days=30,
        force=False,
        seed=5,
        max_training_rows=100_000,
    )
    assert message == (
        f"churn model version 1 trained: no stored version trained as of {AS_OF} or earlier"
    )
    return rows


def plan(stored: pa.Table, features: pa.Table, **changes: object) -> registry.Plan:
    arguments = {"as_of": AS_OF, "types": feature_types(features), "max_age_days": 30}
    return registry.plan(stored, **{"force": False, **arguments, **changes})


def edited(stored: pa.Table, column: str, value: object) -> pa.Table:
    """The registry with one column of its first row replaced."""
    rows = stored.to_pylist()
    rows[0][column] = value
    return pa.Table.from_pylist(rows, schema=stored.schema)


def test_a_stored_version_scores_exactly_as_the_model_trained(
    small: pa.Table, stored: pa.Table
) -> None:
    assert stored.schema == REGISTRY_SCHEMA and stored.num_rows == 1
    row = stored.to_pylist()[0]
    assert row["churn_model_version"] == 1
    assert row["training_as_of_date"] == AS_OF and row["training_rows"] == 800 * 5
    assert row["holdout_snapshot_date"] == SNAPSHOTS[4] and row["holdout_rows"] == 800
    assert 0.5 < row["classifier_roc_auc"] <= 1 and 0 < row["holdout_positive_rate"] < 1
    assert row["model_blob"][:2] == b"PK"  # a skops zip, not a pickle
    # trained again on the same rows and seed: training is deterministic, so the stored
    # version, loaded, must score exactly as this fresh model
    direct = score(train_model(small, seed=5), small)
    scored, message = registry.score_with_registry(
        stored, small, as_of=AS_OF, high_risk=0.6, medium_risk=0.3
    )
    assert message == "scored with churn model version 1"
    assert scored.column("churn_model_version").to_pylist() == [1] * 800
    assert scored.drop_columns(["churn_model_version"]).equals(direct)


def test_a_customer_score_depends_only_on_the_model_and_their_own_features(
    stored: pa.Table, small: pa.Table
) -> None:
    """What made scores churn: refitting, and typical values and driver candidates taken
    from whatever rows were scored. A stored model scores each row on its own."""
    model = load_model(stored.to_pylist()[0])
    latest = small.take(latest_rows(small))
    before = score(model, latest)
    # everybody but the first 100 customers changes: orders, recency, consent; 50 leave
    changed = latest.slice(100, 650)
    for name, values in [
        ("days_since_last_order", pc.add(changed.column("days_since_last_order"), 40)),
        ("orders_90d", pc.multiply(changed.column("orders_90d"), 3)),
        ("has_email_consent", pc.invert(changed.column("has_email_consent"))),
    ]:
        changed = with_column(changed, name, values)
    after = score(model, pa.concat_tables([changed, latest.slice(0, 100)]))
    kept = before.slice(0, 100)
    assert after.filter(pc.is_in(after.column("customer_id"), kept.column("customer_id"))).equals(
        kept
    )
    moved = pc.not_equal(
        before.slice(100, 650).column("churn_probability"),
        after.slice(0, 650).column("churn_probability"),
    )
    assert pc.sum(moved).as_py() > 300  # the changes did change those customers' scores


def test_a_version_within_the_max_age_is_loaded_and_an_older_one_retrained(
    stored: pa.Table, small: pa.Table
) -> None:
    keep = plan(stored, small, as_of=AS_OF + dt.timedelta(days=30))
    assert (keep.train, keep.version) == (False, 1)
    assert "30 days old, within churn_max_model_age_days (30)" in keep.reason
    old = plan(stored, small, as_of=AS_OF + dt.timedelta(days=31))
    assert old.train
    assert old.reason == (
        f"version 1 is 31 days old (trained as of {AS_OF}), over churn_max_model_age_days (30)"
    )
    assert plan(stored, small, max_age_days=0).train is False  # same as-of: age 0
    forced = plan(stored, small, force=True)
    assert forced.train and "forced" in forced.reason


def test_the_version_in_use_is_the_highest_trained_as_of_the_date_or_earlier(
    stored: pa.Table,
) -> None:
    later = edited(stored, "training_as_of_date", AS_OF + dt.timedelta(days=60))
    later = edited(later, "churn_model_version", 2)
    both = pa.concat_tables([stored, later])
    assert registry.current_row(both, AS_OF)["churn_model_version"] == 1
    assert registry.current_row(both, AS_OF + dt.timedelta(days=59))["churn_model_version"] == 1
    assert registry.current_row(both, AS_OF + dt.timedelta(days=60))["churn_model_version"] == 2
    assert registry.current_row(both, AS_OF - dt.timedelta(days=1)) is None
    decision = registry.plan(
        later, as_of=AS_OF, types={}, max_age_days=30, force=False
    )  # a backfill never uses a model that saw later labels
    assert decision.train and "all trained later" in decision.reason


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("sklearn_version", "1.0.2", "stored by scikit-learn 1.0.2, this is"),
        ("model_format", "c360-churn-model/0", "stored in format 'c360-churn-model/0'"),
    ],
)
def test_a_version_from_another_format_or_scikit_learn_is_retrained(
    stored: pa.Table, small: pa.Table, column: str, value: str, reason: str
) -> None:
    decision = plan(edited(stored, column, value), small)
    assert decision.train and reason in decision.reason


def test_new_or_dropped_features_retrain_naming_them(stored: pa.Table, small: pa.Table) -> None:
    features = small.drop_columns(["tickets_90d"]).append_column(
        "returns_90d", pa.array(np.zeros(small.num_rows, dtype=np.int64))
    )
    decision = plan(stored, features)
    assert decision.train
    assert "churn_features changed (added: returns_90d; removed: tickets_90d)" in decision.reason
    retyped = with_column(small, "tenure_days", pc.cast(small.column("tenure_days"), pa.float64()))
    assert "retyped: tenure_days int64 -> double" in plan(stored, retyped).reason
    scores, message = registry.score_with_registry(
        stored, features, as_of=AS_OF, high_risk=0.6, medium_risk=0.3
    )
    assert scores is None and "cannot score churn_features" in message
    with pytest.raises(IncompatibleFeatures, match="added: returns_90d"):
        score(load_model(stored.to_pylist()[0]), features)


def corrupt_blob(blob: bytes) -> bytes:
    middle = len(blob) // 2
    return blob[:middle] + bytes([blob[middle] ^ 0xFF]) + blob[middle + 1 :]


def test_a_damaged_version_fails_naming_it_and_the_remedy(
    stored: pa.Table, small: pa.Table
) -> None:
    damaged = edited(stored, "model_blob", corrupt_blob(stored.column("model_blob")[0].as_py()))
    with pytest.raises(UnreadableChurnModel, match=r"version 1 is unreadable: its checksum") as e:
        plan(damaged, small)
    assert "make train-churn" in str(e.value)
    with pytest.raises(UnreadableChurnModel, match="checksum"):
        registry.score_with_registry(damaged, small, as_of=AS_OF, high_risk=0.6, medium_risk=0.3)
    # forcing a new version never reads the damaged one
    assert plan(damaged, small, force=True).train


def resealed(stored: pa.Table, **columns: object) -> pa.Table:
    """The registry with columns of its first row replaced and the checksum recomputed, as
    someone who can write the warehouse could."""
    row = stored.to_pylist()[0] | columns
    row["model_sha256"] = registry._digest(row)
    return pa.Table.from_pylist([row], schema=stored.schema)


def test_a_blob_with_untrusted_types_or_bad_tree_indices_is_refused(stored: pa.Table) -> None:
    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    foreign = skops.io.dumps(FunctionTransformer(func=print))
    with pytest.raises(UnreadableChurnModel, match="types this code does not trust"):
        load_model(resealed(stored, model_blob=foreign).to_pylist()[0])
    model = load_model(stored.to_pylist()[0])
    nodes = model.classifier._predictors[0][0].nodes
    nodes["left"][0] = 10**6  # the root's left child outside the tree
    bad = skops.io.dumps(model.classifier)
    with pytest.raises(UnreadableChurnModel, match="points outside its tree"):
        load_model(resealed(stored, model_blob=bad).to_pylist()[0])


def test_too_little_history_trains_nothing_and_says_so(small: pa.Table) -> None:
    unlabelled = with_column(small, "churned_next_90d", pa.nulls(small.num_rows, pa.bool_()))
    rows, message = registry.update_registry(
        REGISTRY_SCHEMA.empty_table(),
        lambda: classifier._labelled(unlabelled),
        as_of=AS_OF,
        types=feature_types(unlabelled),
        max_age_days=30,
        force=False,
        seed=0,
        max_training_rows=1000,
    )
    assert rows.num_rows == 0 and "churn model not trained" in message
    scores, message = registry.score_with_registry(
        rows, unlabelled, as_of=AS_OF, high_risk=0.6, medium_risk=0.3
    )
    assert scores is None and "no churn model version" in message


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("False", False), (" 1 ", True)])
def test_flags_parse_and_a_bad_one_is_named(value: object, expected: bool) -> None:
    assert parse_flag("var churn_train_new_model", value) is expected
    with pytest.raises(ValueError, match="var churn_train_new_model must be true or false"):
        parse_flag("var churn_train_new_model", "maybe")
