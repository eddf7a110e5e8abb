"""Churn classifier: gradient-boosted trees on point-in-time features, scored per customer.

Why HistGradientBoostingClassifier: the features are counts, money and recencies with long
tails, NULLs (no web session yet) and interactions (a decline matters more for a frequent
buyer); boosted trees take them as they are, with no scaling or imputation to keep in step
between training and scoring, and handle NULL natively. Drivers are measured by occlusion:
a feature's push is how much the customer's probability falls when that one feature is set
to its typical (training median or most frequent) value, so they are true to this model.
Occluding every feature for every customer costs one prediction pass per feature, so it is
done for the DRIVER_CANDIDATES features with the largest mean push on a sample of training
rows; measured at 50,000 persons (27k customers scored, 40 features) that took scoring from
22 s to a few seconds. The 60 trees at learning rate 0.15 scored the same holdout ROC AUC as
150 at 0.08 (0.7548 against 0.7558) for 40% of the prediction cost.

That shortcut is an approximation, measured on the same mart (26,579 customers scored): the
12 candidates give the same driver_1 as occluding all 39 features for 86% of customers and
the same three drivers for 63% (16 candidates: 89% and 72%). Occluding all 39 would take
about 6 minutes at 700,000 customers on one thread. Logistic regression on standardised
features would give exact drivers at no cost but lost 0.017 holdout AUC (0.738 against
0.755) and 2.4 points of precision at the top decile (0.922 against 0.946) there.
At 1,000,000 labelled rows (300,000 trained on) and 700,000 scored, one thread, on 2 cores
shared with other jobs: evaluate_model 18 s, score_latest 94 s, of which about 14 s fitting,
7 s predicting and most of the rest the 12 occlusion passes (rows already at the typical
value are skipped, exactly).

Every input column that is not an id, the snapshot date or the label is a feature: numbers
and booleans as numbers, text as categories. New columns in the SQL flow through.

Training and scoring are separate steps: `train_model` returns a `ChurnModel` that holds the
fitted trees and everything scoring derives from the training rows (the category codes, the
typical values occlusion puts in, the driver candidates), so `score` gives a customer a
probability and drivers that depend only on that model and the customer's own features.
c360.churn.registry stores a ChurnModel in the warehouse and loads it back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import wraps

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

KEY = "churn_feature_id"
CUSTOMER = "customer_id"
SNAPSHOT = "snapshot_date"
LABEL = "churned_next_90d"
BASELINE = "days_since_last_order"
NOT_FEATURES = {KEY, CUSTOMER, SNAPSHOT, LABEL}
CLASSIFIER = "churn_classifier"
BASELINE_MODEL = "baseline_days_since_last_order"
DRIVERS = 3
DRIVER_CANDIDATES = 12
IMPORTANCE_SAMPLE = 10_000
# a driver must raise the probability by at least half a point: smaller pushes are noise and
# would read "+0.00" in top_drivers
MIN_PUSH = 0.005
OCCLUSION_BATCH_ROWS = 250_000  # rows per predict call (bounds the copies' memory)
SCORING_THREADS = 2  # default of C360_CHURN_THREADS for train_model and score (_limited_threads)

METRICS_SCHEMA = pa.schema(
    [
        ("model_metric_id", pa.string()),
        ("model_name", pa.string()),
        ("metric", pa.string()),
        ("metric_value", pa.float64()),
        ("holdout_snapshot_date", pa.date32()),
        ("training_rows", pa.int64()),
        ("holdout_rows", pa.int64()),
        ("training_snapshots", pa.int64()),
    ]
)
SCORES_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("snapshot_date", pa.date32()),
        ("churn_probability", pa.float64()),
        ("churn_risk_band", pa.string()),
        ("driver_1", pa.string()),
        ("driver_2", pa.string()),
        ("driver_3", pa.string()),
        ("top_drivers", pa.string()),
    ]
)


def _limited_threads(default: int) -> Callable[[Callable], Callable]:
    """Run with C360_CHURN_THREADS (else `default`) OpenMP threads. On 2 cores, OpenMP's
    spinning threads oversubscribed beside DuckDB's made a fit 4-20 times slower than one
    thread: the holdout evaluation takes one; training and scoring take two because
    nothing else in the DAG is ready while int_churn_models_trained and
    int_churn_scores_predicted run. The evaluation runs in int_churn_models_trained too,
    after the training, still on one thread."""

    def decorate(function: Callable) -> Callable:
        @wraps(function)
        def limited(*args, **kwargs):
            with threadpool_limits(limits=_churn_threads(default)):
                return function(*args, **kwargs)

        return limited

    return decorate


def _churn_threads(default: int) -> int:
    return int(os.environ.get("C360_CHURN_THREADS", str(default)))


class NotEnoughHistory(ValueError):
    """The features hold too little labelled history to train or evaluate a model."""


@dataclass
class Encoded:
    """Feature matrix plus what is needed to encode new rows the same way."""

    names: list[str]
    categorical: np.ndarray  # bool per feature
    boolean: np.ndarray  # bool per feature
    categories: dict[str, list[str]]  # text feature -> known values (code = position)


@dataclass
class ChurnModel:
    """A fitted classifier and everything scoring derives from its training rows, frozen."""

    classifier: HistGradientBoostingClassifier
    encoded: Encoded
    feature_types: dict[str, str]  # feature -> Arrow type name it was trained on
    typical: np.ndarray  # per feature, the value occlusion puts in (NaN: missing)
    candidates: list[int]  # positions of the features tried as drivers
    training_rows: int
    training_snapshots: int


class IncompatibleFeatures(ValueError):
    """The features to score do not have the columns and types the model was trained on."""


def feature_types(features: pa.Table) -> dict[str, str]:
    """Feature name -> Arrow type name, in column order: what a model is trained on."""
    return {name: str(features.schema.field(name).type) for name in _feature_names(features)}


def feature_changes(trained: dict[str, str], current: dict[str, str]) -> list[str]:
    """How `current` features differ from those a model was `trained` on (empty: the same)."""
    added = [name for name in current if name not in trained]
    removed = [name for name in trained if name not in current]
    retyped = [
        f"{name} {trained[name]} -> {current[name]}"
        for name in trained
        if name in current and trained[name] != current[name]
    ]
    return [
        f"{what}: {', '.join(names)}"
        for what, names in (("added", added), ("removed", removed), ("retyped", retyped))
        if names
    ]


def _check(features: pa.Table) -> pa.Table:
    missing = [c for c in (CUSTOMER, SNAPSHOT, BASELINE, LABEL) if c not in features.column_names]
    if missing:
        raise ValueError(f"churn_features is missing required column(s): {', '.join(missing)}")
    # DuckDB returns rows in no set order: sort so sampling and ties are deterministic
    order = [(KEY, "ascending")] if KEY in features.column_names else []
    return features.sort_by([(SNAPSHOT, "ascending"), (CUSTOMER, "ascending"), *order])


def _feature_names(features: pa.Table) -> list[str]:
    return [name for name in features.column_names if name not in NOT_FEATURES]


def _fit_encoding(train: pa.Table) -> Encoded:
    names = _feature_names(train)
    categorical = np.array([pa.types.is_string(train.schema.field(n).type) for n in names])
    categories = {
        name: sorted(v for v in pc.unique(train.column(name)).to_pylist() if v is not None)
        for name, is_text in zip(names, categorical, strict=True)
        if is_text
    }
    boolean = np.array([pa.types.is_boolean(train.schema.field(n).type) for n in names])
    return Encoded(names, categorical, boolean, categories)


def _matrix(table: pa.Table, encoded: Encoded) -> np.ndarray:
    columns = []
    for name, is_text in zip(encoded.names, encoded.categorical, strict=True):
        column = table.column(name)
        if is_text:
            codes = pc.index_in(column, value_set=pa.array(encoded.categories[name], pa.string()))
            # NULL and values unseen in training are "missing" to the trees
            columns.append(pc.fill_null(pc.cast(codes, pa.float64()), np.nan).to_numpy())
        else:
            values = pc.cast(column, pa.float64())
            columns.append(pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False))
    return np.column_stack(columns) if columns else np.empty((table.num_rows, 0))


def _labelled(features: pa.Table) -> pa.Table:
    return features.filter(pc.is_valid(features.column(LABEL)))


def _sample(table: pa.Table, max_rows: int, seed: int) -> pa.Table:
    if table.num_rows <= max_rows:
        return table
    rows = np.sort(np.random.default_rng(seed).choice(table.num_rows, max_rows, replace=False))
    return table.take(pa.array(rows))


def _fit(train: pa.Table, seed: int) -> tuple[HistGradientBoostingClassifier, Encoded]:
    labels = train.column(LABEL).to_numpy(zero_copy_only=False).astype(int)
    if len(np.unique(labels)) < 2:
        raise NotEnoughHistory("churn training rows hold one class only: nothing to learn")
    encoded = _fit_encoding(train)
    model = HistGradientBoostingClassifier(
        max_iter=60,
        learning_rate=0.15,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=encoded.categorical if encoded.categorical.any() else None,
        early_stopping=False,
        random_state=seed,
    )
    model.fit(_matrix(train, encoded), labels)
    return model, encoded


def _precision_at_top_decile(labels: np.ndarray, scores: np.ndarray) -> float:
    top = max(1, int(np.ceil(len(scores) * 0.1)))
    # stable sort on the negated score: ties keep input (customer) order
    order = np.argsort(-scores, kind="stable")[:top]
    return float(labels[order].mean())


@_limited_threads(default=1)
def evaluate_model(
    features: pa.Table, *, seed: int = 0, max_training_rows: int = 300_000
) -> pa.Table:
    """Holdout metrics of the classifier and the recency baseline: trained on earlier
    labelled snapshots, measured on the latest labelled one (a time-based split)."""
    labelled = _labelled(_check(features))
    snapshots = sorted(set(labelled.column(SNAPSHOT).to_pylist()))
    if len(snapshots) < 2:
        raise NotEnoughHistory(
            f"churn evaluation needs 2 labelled snapshots, found {len(snapshots)}"
        )
    holdout_date = snapshots[-1]
    is_holdout = pc.equal(labelled.column(SNAPSHOT), pa.scalar(holdout_date, pa.date32()))
    holdout = labelled.filter(is_holdout)
    train = _sample(labelled.filter(pc.invert(is_holdout)), max_training_rows, seed)
    model, encoded = _fit(train, seed)
    labels = holdout.column(LABEL).to_numpy(zero_copy_only=False).astype(int)
    if len(np.unique(labels)) < 2:
        raise NotEnoughHistory("the holdout snapshot holds one class only: AUC is undefined")
    scored = {
        CLASSIFIER: model.predict_proba(_matrix(holdout, encoded))[:, 1],
        BASELINE_MODEL: pc.cast(holdout.column(BASELINE), pa.float64()).to_numpy(
            zero_copy_only=False
        ),
    }
    rows = []
    for name, scores in scored.items():
        values = {
            "roc_auc": float(roc_auc_score(labels, scores)),
            "precision_at_top_decile": _precision_at_top_decile(labels, scores),
            "holdout_positive_rate": float(labels.mean()),
        }
        rows += [(name, metric, value) for metric, value in values.items()]
    return pa.table(
        {
            "model_metric_id": [f"{model_name}|{metric}" for model_name, metric, _ in rows],
            "model_name": [r[0] for r in rows],
            "metric": [r[1] for r in rows],
            "metric_value": [r[2] for r in rows],
            "holdout_snapshot_date": [holdout_date] * len(rows),
            "training_rows": [train.num_rows] * len(rows),
            "holdout_rows": [holdout.num_rows] * len(rows),
            "training_snapshots": [len(snapshots) - 1] * len(rows),
        },
        schema=METRICS_SCHEMA,
    )


def _typical_values(matrix: np.ndarray, encoded: Encoded) -> np.ndarray:
    """Per feature, the value occlusion puts in: the median, or the most frequent category or
    flag (a median of 0.5 for a true/false feature is a value no customer has)."""
    typical = np.empty(matrix.shape[1])
    for j, discrete in enumerate(encoded.categorical | encoded.boolean):
        column = matrix[:, j][~np.isnan(matrix[:, j])]
        if column.size == 0:
            typical[j] = np.nan
        elif discrete:
            values, counts = np.unique(column, return_counts=True)
            typical[j] = values[np.argmax(counts)]
        else:
            typical[j] = np.median(column)
    return typical


def _occlusion_push(
    model: HistGradientBoostingClassifier,
    matrix: np.ndarray,
    probability: np.ndarray,
    typical: np.ndarray,
    features: list[int],
    workers: int = 1,
) -> np.ndarray:
    """Per row and listed feature: probability minus the probability with that feature typical.

    The occluded rows are predicted in batches of about OCCLUSION_BATCH_ROWS. With `workers`
    above 1 that many batches run at once, in threads of one OpenMP thread each: copying the
    rows and scikit-learn's input checks run on one core while a batch is predicted, and a
    second batch fills the other (same pushes, measurably faster at a million persons).
    Each feature's rows are in one batch, so the threads write disjoint columns of `push`.
    """
    push = np.zeros((matrix.shape[0], len(features)))
    batches: list[list[tuple[int, int, np.ndarray]]] = [[]]
    for position, j in enumerate(features):
        column = matrix[:, j]
        # a row already at the typical value (or missing where it is missing) cannot move:
        # skipping it is exact, and counts and flags are mostly at their typical value
        rows = np.flatnonzero(~((column == typical[j]) | (np.isnan(column) & np.isnan(typical[j]))))
        if rows.size:
            batches[-1].append((position, j, rows))
        if sum(pending.size for _, _, pending in batches[-1]) >= OCCLUSION_BATCH_ROWS:
            batches.append([])

    def predict(batch: list[tuple[int, int, np.ndarray]]) -> None:
        # one predict call for several features' occluded rows: each call has a fixed cost
        # (checks, 60 tree walks) that dominated on small tables; rows are scored independently
        if not batch:
            return
        blocks = []
        for _, j, rows in batch:
            occluded = matrix[rows]
            occluded[:, j] = typical[j]
            blocks.append(occluded)
        occluded_probability = model.predict_proba(np.concatenate(blocks))[:, 1]
        start = 0
        for position, _, rows in batch:
            push[rows, position] = (
                probability[rows] - occluded_probability[start : start + rows.size]
            )
            start += rows.size

    def predict_on_one_thread(batch: list[tuple[int, int, np.ndarray]]) -> None:
        # OpenMP's thread count is per thread: set it in each worker
        with threadpool_limits(limits=1, user_api="openmp"):
            predict(batch)

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(predict_on_one_thread, batches))
    else:
        for batch in batches:
            predict(batch)
    return push


def _driver_candidates(
    model: HistGradientBoostingClassifier,
    train_matrix: np.ndarray,
    typical: np.ndarray,
    seed: int,
    workers: int = 1,
) -> list[int]:
    """The features whose occlusion moves a sample of training rows' probability most."""
    rows = np.random.default_rng(seed).permutation(train_matrix.shape[0])[:IMPORTANCE_SAMPLE]
    sample = train_matrix[np.sort(rows)]
    every = list(range(train_matrix.shape[1]))
    probability = model.predict_proba(sample)[:, 1]
    importance = np.abs(_occlusion_push(model, sample, probability, typical, every, workers))
    ranked = np.argsort(-importance.mean(axis=0), kind="stable")
    return sorted(int(j) for j in ranked[:DRIVER_CANDIDATES])


def _drivers(
    model: HistGradientBoostingClassifier,
    matrix: np.ndarray,
    probability: np.ndarray,
    typical: np.ndarray,
    candidates: list[int],
    encoded: Encoded,
    workers: int = 1,
) -> tuple[list[list[str | None]], list[str | None]]:
    """Top features pushing each row's probability up, by occlusion, and a readable summary."""
    candidate_push = _occlusion_push(model, matrix, probability, typical, candidates, workers)
    push = np.full(matrix.shape, -np.inf)
    push[:, candidates] = candidate_push
    order = np.argsort(-push, axis=1, kind="stable")[:, :DRIVERS]
    rows = np.arange(matrix.shape[0])
    names = np.array(encoded.names, dtype=object)
    drivers: list[list[str | None]] = []
    parts: list[pa.Array] = []
    # column-wise, not row by row: a Python loop over 700,000 customers took seconds
    for rank in range(DRIVERS):
        feature = order[:, rank]
        up = push[rows, feature] >= MIN_PUSH
        name = np.where(up, names[feature], None)
        drivers.append(name.tolist())
        part = pc.binary_join_element_wise(
            pa.array(name, pa.string()),
            "=",
            pa.array(_display(matrix[rows, feature], feature, encoded), pa.string()),
            " (+",
            pa.array(np.char.mod("%.2f", push[rows, feature]), pa.string()),
            ")",
            "",
        )
        parts.append(part)
    # pushes are in falling order, so the drivers that count are a prefix of the three:
    # the longest prefix with no NULL part is the summary (NULL when there is none)
    prefixes = [pc.binary_join_element_wise(*parts[: n + 1], "; ") for n in range(DRIVERS)]
    return drivers, pc.coalesce(*reversed(prefixes)).to_pylist()


def _display(values: np.ndarray, features: np.ndarray, encoded: Encoded) -> np.ndarray:
    """How top_drivers shows each row's value of its feature: the category, "null" or %g."""
    shown = np.char.mod("%g", np.nan_to_num(values)).astype(object)
    for j in np.flatnonzero(encoded.categorical):
        rows = np.flatnonzero((features == j) & ~np.isnan(values))
        categories = np.array(encoded.categories[encoded.names[j]], dtype=object)
        shown[rows] = categories[values[rows].astype(int)]
    shown[np.isnan(values)] = "null"
    return shown


def _check_thresholds(high_risk: float, medium_risk: float) -> None:
    if not 0 <= medium_risk <= high_risk <= 1:
        raise ValueError(
            f"churn risk thresholds must satisfy 0 <= medium ({medium_risk}) "
            f"<= high ({high_risk}) <= 1"
        )


@_limited_threads(default=SCORING_THREADS)
def train_model(
    features: pa.Table, *, seed: int = 0, max_training_rows: int = 300_000
) -> ChurnModel:
    """Fit the classifier on every labelled snapshot and freeze what scoring derives from
    the training rows: category codes, typical values and driver candidates."""
    labelled = _labelled(_check(features))
    if labelled.num_rows == 0:
        raise NotEnoughHistory("churn_features has no labelled snapshot to train on")
    train = _sample(labelled, max_training_rows, seed)
    model, encoded = _fit(train, seed)
    train_matrix = _matrix(train, encoded)
    typical = _typical_values(train_matrix, encoded)
    workers = _churn_threads(SCORING_THREADS)
    return ChurnModel(
        classifier=model,
        encoded=encoded,
        feature_types=feature_types(train),
        typical=typical,
        candidates=_driver_candidates(model, train_matrix, typical, seed, workers),
        training_rows=train.num_rows,
        training_snapshots=len(set(train.column(SNAPSHOT).to_pylist())),
    )


@_limited_threads(default=SCORING_THREADS)
def score(
    model: ChurnModel,
    features: pa.Table,
    *,
    high_risk: float = 0.6,
    medium_risk: float = 0.3,
) -> pa.Table:
    """Score each customer of the latest snapshot of `features` with a probability, a risk
    band and the three features pushing the risk up most. Nothing is learnt from the rows
    scored: a customer's output depends only on `model` and that customer's features."""
    _check_thresholds(high_risk, medium_risk)
    features = _check(features)
    changes = feature_changes(model.feature_types, feature_types(features))
    if changes:
        raise IncompatibleFeatures(
            "churn_features no longer has the features the churn model was trained on ("
            + "; ".join(changes)
            + "): train a new model version"
        )
    if features.num_rows == 0:
        return SCORES_SCHEMA.empty_table()
    latest_date = pc.max(features.column(SNAPSHOT)).as_py()
    latest = features.filter(
        pc.equal(features.column(SNAPSHOT), pa.scalar(latest_date, pa.date32()))
    )
    encoded = model.encoded
    matrix = _matrix(latest, encoded)
    probability = model.classifier.predict_proba(matrix)[:, 1]
    workers = _churn_threads(SCORING_THREADS)
    drivers, summaries = _drivers(
        model.classifier, matrix, probability, model.typical, model.candidates, encoded, workers
    )
    band = np.where(
        probability >= high_risk, "high", np.where(probability >= medium_risk, "medium", "low")
    )
    return pa.table(
        {
            "customer_id": latest.column(CUSTOMER),
            "snapshot_date": latest.column(SNAPSHOT),
            "churn_probability": probability,
            "churn_risk_band": band.tolist(),
            "driver_1": drivers[0],
            "driver_2": drivers[1],
            "driver_3": drivers[2],
            "top_drivers": summaries,
        },
        schema=SCORES_SCHEMA,
    )


def score_latest(
    features: pa.Table,
    *,
    seed: int = 0,
    max_training_rows: int = 300_000,
    high_risk: float = 0.6,
    medium_risk: float = 0.3,
) -> pa.Table:
    """Train on every labelled snapshot of `features`, then score its latest snapshot."""
    _check_thresholds(high_risk, medium_risk)
    model = train_model(features, seed=seed, max_training_rows=max_training_rows)
    return score(model, features, high_risk=high_risk, medium_risk=medium_risk)
