"""Churn probability, risk band and top drivers for the latest churn_features snapshot.

Fits the classifier on every labelled snapshot (c360.churn) and scores the latest one.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from c360.churn import score_latest

    features = dbt.ref("churn_features").arrow().read_all()
    return score_latest(
        features,
        seed=int(dbt.config.get("churn_seed")),
        max_training_rows=int(dbt.config.get("churn_max_training_rows")),
        high_risk=float(dbt.config.get("churn_high_risk")),
        medium_risk=float(dbt.config.get("churn_medium_risk")),
    )
