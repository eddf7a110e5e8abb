"""Churn classifier for the churn_features mart: training, holdout evaluation, scoring, and
the registry that keeps trained versions in the warehouse."""

from c360.churn.classifier import (
    METRICS_SCHEMA,
    SCORES_SCHEMA,
    ChurnModel,
    IncompatibleFeatures,
    NotEnoughHistory,
    evaluate_model,
    feature_types,
    score,
    score_latest,
    train_model,
)
from c360.churn.registry import (
    REGISTRY_SCHEMA,
    UnreadableChurnModel,
    load_model,
    score_with_registry,
    update_registry,
)

__all__ = [
    "METRICS_SCHEMA",
    "REGISTRY_SCHEMA",
    "SCORES_SCHEMA",
    "ChurnModel",
    "IncompatibleFeatures",
    "NotEnoughHistory",
    "UnreadableChurnModel",
    "evaluate_model",
    "feature_types",
    "load_model",
    "score",
    "score_latest",
    "score_with_registry",
    "train_model",
    "update_registry",
]
