"""Churn classifier for the churn_features mart: holdout evaluation and scoring."""

from c360.churn.classifier import (
    METRICS_SCHEMA,
    SCORES_SCHEMA,
    NotEnoughHistory,
    evaluate_model,
    score_latest,
)

__all__ = ["METRICS_SCHEMA", "SCORES_SCHEMA", "NotEnoughHistory", "evaluate_model", "score_latest"]
