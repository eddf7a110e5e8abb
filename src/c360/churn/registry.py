"""Churn model registry: every trained churn model version, kept in the warehouse.

Retraining on every build moved every customer's score a little whenever anyone's data
changed, and the risk bands and audiences moved with it. So a model is trained once,
stored as a numbered version (one row of an append-only table, int_churn_models_trained),
and later builds load it and only score. A build trains a new version itself when

- it is asked to (var churn_train_new_model, which `make train-churn` sets),
- no version was trained as of the build's as-of date or earlier,
- the version in use was stored in another format, by another scikit-learn, or on other
  features than churn_features now has, or
- the version in use is older than var churn_max_model_age_days, measured from its
  training as-of date to the build's as-of date (both come from the data, never the wall
  clock, so rebuilding the same exports gives the same marts).

The version in use at an as-of date is the highest one trained as of that date or earlier:
a backfill never scores with a model that saw labels from after its as-of date, and
rebuilding old exports scores them with the version they were scored with.

Loading checks before it trusts anything: the format tag, the scikit-learn version, a
SHA-256 over everything stored, then skops (not pickle: loading runs no code) with an
explicit list of trusted types, then the node indices of every tree. Another format or
scikit-learn is expected after an upgrade and retrains; a version that fails any other
check is not silently replaced: the build fails naming it (UnreadableChurnModel), since
retraining would hide the damage and quietly move every score.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sklearn
import skops
import skops.io
from sklearn.ensemble import HistGradientBoostingClassifier

from c360.churn.classifier import (
    BASELINE_MODEL,
    CLASSIFIER,
    SCORES_SCHEMA,
    ChurnModel,
    Encoded,
    NotEnoughHistory,
    evaluate_model,
    feature_changes,
    feature_types,
    score,
    train_model,
)

# Bump when what is stored, or how scoring reads it, changes: older versions then retrain.
FORMAT = "c360-churn-model/1"
# Types a stored classifier may hold beyond those skops trusts by default. Reviewed for the
# pinned scikit-learn: TreePredictor's node indices are checked after loading (_check_trees).
TRUSTED_TYPES = [
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]
VERSION = "churn_model_version"
HOLDOUT_METRICS = {  # registry column -> (model_name, metric) of churn_model_metrics
    "classifier_roc_auc": (CLASSIFIER, "roc_auc"),
    "classifier_precision_at_top_decile": (CLASSIFIER, "precision_at_top_decile"),
    "baseline_roc_auc": (BASELINE_MODEL, "roc_auc"),
    "baseline_precision_at_top_decile": (BASELINE_MODEL, "precision_at_top_decile"),
    "holdout_positive_rate": (CLASSIFIER, "holdout_positive_rate"),
}
REGISTRY_SCHEMA = pa.schema(
    [
        (VERSION, pa.int64()),
        ("model_format", pa.string()),
        ("sklearn_version", pa.string()),
        ("skops_version", pa.string()),
        ("training_reason", pa.string()),
        ("feature_types", pa.string()),  # JSON object: feature -> Arrow type, in order
        ("scoring_state", pa.string()),  # JSON: category codes, typical values, candidates
        ("model_sha256", pa.string()),
        ("churn_seed", pa.int64()),
        ("max_training_rows", pa.int64()),
        ("training_rows", pa.int64()),
        ("training_snapshots", pa.int64()),
        ("holdout_rows", pa.int64()),
        ("holdout_training_rows", pa.int64()),
        ("holdout_training_snapshots", pa.int64()),
        *[(column, pa.float64()) for column in HOLDOUT_METRICS],
        ("model_blob", pa.binary()),
        ("training_as_of_date", pa.date32()),
        ("holdout_snapshot_date", pa.date32()),
        ("trained_at", pa.timestamp("us")),
    ]
)

SCORED_SCHEMA = SCORES_SCHEMA.append(pa.field(VERSION, pa.int64()))  # scores and their version


class UnreadableChurnModel(RuntimeError):
    """A stored churn model version is damaged or holds something this code will not load."""


@dataclass(frozen=True)
class Plan:
    """What a build does with the registry: train a new version, or use `version`."""

    train: bool
    reason: str
    version: int | None


def _digest(row: dict) -> str:
    """SHA-256 over every stored part a loaded model depends on, each length-prefixed."""
    digest = hashlib.sha256()
    for part in (
        row["model_format"].encode(),
        row["sklearn_version"].encode(),
        row["feature_types"].encode(),
        row["scoring_state"].encode(),
        row["model_blob"],
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _scoring_state(model: ChurnModel) -> str:
    encoded = model.encoded
    return json.dumps(
        {
            "features": encoded.names,
            "categorical": encoded.categorical.tolist(),
            "boolean": encoded.boolean.tolist(),
            "categories": encoded.categories,
            # JSON has no NaN: a feature missing in every training row is null here
            "typical": [None if np.isnan(v) else float(v) for v in model.typical],
            "driver_candidates": [encoded.names[j] for j in model.candidates],
        },
        sort_keys=True,
    )


def _untrusted(blob: bytes) -> list[str]:
    return [t for t in skops.io.get_untrusted_types(data=blob) if t not in TRUSTED_TYPES]


def to_registry_row(
    model: ChurnModel,
    *,
    version: int,
    as_of: dt.date,
    reason: str,
    seed: int,
    max_training_rows: int,
    metrics: pa.Table | None,
    trained_at: dt.datetime,
) -> pa.Table:
    """One registry row holding `model`, its provenance and its holdout `metrics`."""
    blob = skops.io.dumps(model.classifier)
    untrusted = _untrusted(blob)
    if untrusted:
        # a new scikit-learn stores types the loader would refuse: fail now, not at load
        raise UnreadableChurnModel(
            f"the churn model holds types not in registry.TRUSTED_TYPES: {untrusted}; "
            "review them and add them there"
        )
    row: dict = {
        VERSION: version,
        "model_format": FORMAT,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "training_reason": reason,
        "feature_types": json.dumps(model.feature_types),
        "scoring_state": _scoring_state(model),
        "churn_seed": seed,
        "max_training_rows": max_training_rows,
        "training_rows": model.training_rows,
        "training_snapshots": model.training_snapshots,
        "model_blob": blob,
        "training_as_of_date": as_of,
        "trained_at": trained_at,
    }
    row["model_sha256"] = _digest(row)
    if metrics is not None and metrics.num_rows:
        rows = metrics.to_pylist()
        values = {(r["model_name"], r["metric"]): r["metric_value"] for r in rows}
        row |= {
            "holdout_snapshot_date": rows[0]["holdout_snapshot_date"],
            "holdout_rows": rows[0]["holdout_rows"],
            "holdout_training_rows": rows[0]["training_rows"],
            "holdout_training_snapshots": rows[0]["training_snapshots"],
        }
        row |= {column: values[key] for column, key in HOLDOUT_METRICS.items()}
    return pa.Table.from_pylist([row], schema=REGISTRY_SCHEMA)


def _check_trees(classifier: HistGradientBoostingClassifier, n_features: int) -> None:
    """Every split of every tree points inside its tree, its feature and its bitsets: the
    predictor indexes them unchecked, so a bad index would read outside the arrays."""
    for iteration in classifier._predictors:
        for predictor in iteration:
            nodes = predictor.nodes
            split = nodes["is_leaf"] == 0
            children = np.concatenate([nodes["left"][split], nodes["right"][split]])
            categorical = split & (nodes["is_categorical"] == 1)
            if (
                (children <= 0).any()
                or (children >= len(nodes)).any()
                or (nodes["feature_idx"][split] >= n_features).any()
                or (nodes["bitset_idx"][categorical] >= len(predictor.raw_left_cat_bitsets)).any()
            ):
                raise ValueError("a tree node points outside its tree, features or bitsets")


def load_model(row: dict) -> ChurnModel:
    """The ChurnModel stored in a registry row, after checking format, versions, checksum,
    trusted types and tree indices; UnreadableChurnModel naming the version otherwise."""
    version = row.get(VERSION)
    remedy = (
        "run `make train-churn` (or set var churn_train_new_model) to train and store a "
        "new version; the damaged row stays in intermediate.int_churn_models_trained"
    )

    def unreadable(why: str) -> UnreadableChurnModel:
        return UnreadableChurnModel(f"churn model version {version} is unreadable: {why}; {remedy}")

    if row.get("model_format") != FORMAT:
        raise unreadable(f"its format is {row.get('model_format')!r}, this code reads {FORMAT!r}")
    if row.get("sklearn_version") != sklearn.__version__:
        raise unreadable(
            f"it was stored by scikit-learn {row.get('sklearn_version')}, "
            f"this is {sklearn.__version__}"
        )
    if not row.get("model_blob") or not row.get("scoring_state") or not row.get("feature_types"):
        raise unreadable("its model, scoring state or feature list is empty")
    if _digest(row) != row.get("model_sha256"):
        raise unreadable("its checksum does not match what is stored (damaged or edited)")
    try:
        untrusted = _untrusted(row["model_blob"])
        if untrusted:
            raise ValueError(f"it holds types this code does not trust: {untrusted}")
        classifier = skops.io.loads(row["model_blob"], trusted=TRUSTED_TYPES)
        if not isinstance(classifier, HistGradientBoostingClassifier):
            raise ValueError(f"it holds a {type(classifier).__name__}, not the churn classifier")
        types = json.loads(row["feature_types"])
        state = json.loads(row["scoring_state"])
        names = state["features"]
        if names != list(types) or classifier.n_features_in_ != len(names):
            raise ValueError("its feature list, scoring state and classifier disagree")
        _check_trees(classifier, len(names))
        encoded = Encoded(
            names=names,
            categorical=np.array(state["categorical"], dtype=bool),
            boolean=np.array(state["boolean"], dtype=bool),
            categories={name: list(values) for name, values in state["categories"].items()},
        )
        model = ChurnModel(
            classifier=classifier,
            encoded=encoded,
            feature_types=types,
            typical=np.array([np.nan if v is None else v for v in state["typical"]], float),
            candidates=[names.index(name) for name in state["driver_candidates"]],
            training_rows=row["training_rows"],
            training_snapshots=row["training_snapshots"],
        )
    except Exception as error:  # any failure to read it is the same problem to the user
        raise unreadable(str(error)) from error
    return model


def current_row(registry: pa.Table, as_of: dt.date) -> dict | None:
    """The version in use at `as_of`: the highest one trained as of that date or earlier."""
    eligible = registry.filter(
        pc.less_equal(registry.column("training_as_of_date"), pa.scalar(as_of, pa.date32()))
    )
    if eligible.num_rows == 0:
        return None
    latest = pc.index(eligible.column(VERSION), pc.max(eligible.column(VERSION)))
    return eligible.slice(latest.as_py(), 1).to_pylist()[0]


def incompatibilities(row: dict, types: dict[str, str]) -> list[str]:
    """Why the stored version in `row` cannot score features of these `types` (empty: it
    can). A format or scikit-learn change is expected after an upgrade: retrain, not fail."""
    if row["model_format"] != FORMAT:
        return [f"stored in format {row['model_format']!r}, this code writes {FORMAT!r}"]
    problems = []
    if row["sklearn_version"] != sklearn.__version__:
        problems.append(
            f"stored by scikit-learn {row['sklearn_version']}, this is {sklearn.__version__}"
        )
    try:
        trained = json.loads(row["feature_types"])
    except (TypeError, ValueError):
        trained = None
    if not isinstance(trained, dict):
        problems.append("its feature list is unreadable")
    elif changes := feature_changes(trained, types):
        problems.append(f"churn_features changed ({'; '.join(changes)})")
    return problems


def plan(
    registry: pa.Table,
    *,
    as_of: dt.date,
    types: dict[str, str],
    max_age_days: int,
    force: bool,
) -> Plan:
    """Train a new version, or use the stored one (checked loadable), and why."""
    row = current_row(registry, as_of)
    if force:
        return Plan(True, "forced (churn_train_new_model, `make train-churn`)", None)
    if row is None:
        later = f"; {registry.num_rows} stored, all trained later" if registry.num_rows else ""
        return Plan(True, f"no stored version trained as of {as_of} or earlier{later}", None)
    version = row[VERSION]
    problems = incompatibilities(row, types)
    if problems:
        return Plan(True, f"version {version} cannot be used: {'; '.join(problems)}", None)
    age = (as_of - row["training_as_of_date"]).days
    if age > max_age_days:
        return Plan(
            True,
            f"version {version} is {age} days old (trained as of {row['training_as_of_date']}), "
            f"over churn_max_model_age_days ({max_age_days})",
            None,
        )
    load_model(row)  # a damaged version fails the build here, before anything is scored
    return Plan(
        False,
        f"version {version} is {age} days old, within churn_max_model_age_days "
        f"({max_age_days}): loaded, not retrained",
        version,
    )


def train_version(
    sample: pa.Table,
    *,
    version: int,
    as_of: dt.date,
    reason: str,
    seed: int,
    max_training_rows: int,
    trained_at: dt.datetime | None = None,
) -> pa.Table:
    """Train a version on the labelled `sample` and measure the same procedure on a time
    holdout (trained on earlier snapshots, tested on the latest labelled one)."""
    model = train_model(sample, seed=seed, max_training_rows=max_training_rows)
    try:
        metrics = evaluate_model(sample, seed=seed, max_training_rows=max_training_rows)
    except NotEnoughHistory:
        metrics = None  # scored all the same; churn_model_metrics stays empty
    return to_registry_row(
        model,
        version=version,
        as_of=as_of,
        reason=reason,
        seed=seed,
        max_training_rows=max_training_rows,
        metrics=metrics,
        trained_at=trained_at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )


def update_registry(
    registry: pa.Table,
    training_sample: Callable[[], pa.Table],
    *,
    as_of: dt.date,
    types: dict[str, str],
    max_age_days: int,
    force: bool,
    seed: int,
    max_training_rows: int,
) -> tuple[pa.Table, str]:
    """The rows to append to the registry (none, or the new version) and what was done and
    why. `training_sample` is called only when a version is trained."""
    if max_age_days < 0:
        raise ValueError(f"var churn_max_model_age_days must be 0 or more, got {max_age_days}")
    decision = plan(registry, as_of=as_of, types=types, max_age_days=max_age_days, force=force)
    if not decision.train:
        return REGISTRY_SCHEMA.empty_table(), f"churn model {decision.reason}"
    version = (pc.max(registry.column(VERSION)).as_py() or 0) + 1 if registry.num_rows else 1
    try:
        row = train_version(
            training_sample(),
            version=version,
            as_of=as_of,
            reason=decision.reason,
            seed=seed,
            max_training_rows=max_training_rows,
        )
    except NotEnoughHistory as reason:
        return REGISTRY_SCHEMA.empty_table(), (
            f"churn model not trained ({decision.reason}): {reason}; scoring keeps the "
            "version in use, if any can score these features"
        )
    return row, f"churn model version {version} trained: {decision.reason}"


def score_with_registry(
    registry: pa.Table,
    features: pa.Table,
    *,
    as_of: dt.date,
    high_risk: float,
    medium_risk: float,
) -> tuple[pa.Table | None, str]:
    """Scores of the latest snapshot of `features` by the version in use at `as_of`, with
    its number; None (and why) when no stored version can score them."""
    row = current_row(registry, as_of)
    if row is None:
        return None, f"no churn model version trained as of {as_of} or earlier: no scores"
    problems = incompatibilities(row, feature_types(features))
    if problems:
        return None, (
            f"churn model version {row[VERSION]} cannot score churn_features "
            f"({'; '.join(problems)}) and no new version could be trained: no scores"
        )
    scores = score(load_model(row), features, high_risk=high_risk, medium_risk=medium_risk)
    version = pa.array(np.full(scores.num_rows, row[VERSION]), pa.int64())
    return scores.append_column(VERSION, version), f"scored with churn model version {row[VERSION]}"
