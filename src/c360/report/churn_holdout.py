"""Holdout predictions of the churn classifier and the recency baseline, for the ROC and
calibration charts.

No table holds them today (churn_model_metrics keeps only the metrics), so they are
recomputed here through the package's public scoring function, with the build's own
evaluation set-up: trained on the labelled snapshots before the latest one, scored on the
latest labelled one. score_latest fits on every labelled row and scores the latest
snapshot, so the holdout snapshot is passed with its labels hidden: the fit sees exactly
the rows evaluate_model trains on, in the same order, with the same seed and cap, and the
probabilities are those evaluate_model measures (the report checks its AUC against the
mart). When churn models are persisted, this module should read their stored holdout
predictions instead; nothing else in the report depends on how they are obtained.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.churn import score_latest
from c360.churn.classifier import BASELINE, LABEL, SNAPSHOT


@dataclass
class Holdout:
    snapshot_date: object
    labels: np.ndarray  # 1 = churned in the 90 days after the snapshot
    classifier: np.ndarray  # predicted churn probability
    baseline: np.ndarray  # days since last order (higher = more likely to churn)


def holdout_predictions(sample: pa.Table, *, seed: int, max_training_rows: int) -> Holdout:
    """Predictions on the latest labelled snapshot of `sample` (churn_features rows), from a
    model fitted on the earlier labelled snapshots."""
    labelled = sample.filter(pc.is_valid(sample.column(LABEL)))
    if labelled.num_rows == 0:
        raise ValueError("the churn training sample holds no labelled row")
    holdout_date = pc.max(labelled.column(SNAPSHOT))
    rows = labelled
    is_holdout = pc.equal(rows.column(SNAPSHOT), holdout_date)
    labels = rows.column(LABEL)
    hidden = pc.if_else(is_holdout, pa.scalar(None, labels.type), labels)
    with _one_churn_thread():
        scored = score_latest(
            rows.set_column(rows.schema.get_field_index(LABEL), LABEL, hidden),
            seed=seed,
            max_training_rows=max_training_rows,
        )
    holdout = rows.filter(is_holdout)
    # score_latest returns one row per customer of the latest snapshot: align by customer
    order = pc.index_in(holdout.column("customer_id"), value_set=scored.column("customer_id"))
    if order.null_count:
        raise RuntimeError("the churn scoring left out holdout customers")
    return Holdout(
        snapshot_date=holdout_date.as_py(),
        labels=holdout.column(LABEL).to_numpy(zero_copy_only=False).astype(int),
        classifier=scored.column("churn_probability").take(order).to_numpy(zero_copy_only=False),
        baseline=pc.cast(holdout.column(BASELINE), pa.float64()).to_numpy(zero_copy_only=False),
    )


@contextmanager
def _one_churn_thread() -> Iterator[None]:
    """score_latest on one OpenMP thread (C360_CHURN_THREADS=1): the scores are the same on
    any number of threads, and two spinning OpenMP threads on a busy 2-core host made the
    report's fit several times slower (measured in docs/reports.md)."""
    before = os.environ.get("C360_CHURN_THREADS")
    os.environ["C360_CHURN_THREADS"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["C360_CHURN_THREADS"]
        else:
            os.environ["C360_CHURN_THREADS"] = before
