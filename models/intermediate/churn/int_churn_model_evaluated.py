"""Holdout evaluation of the churn classifier beside the days-since-last-order baseline.

Trains on earlier labelled snapshots of churn_features and tests on the latest labelled
one (c360.churn); the metrics land in the churn_model_metrics mart.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from c360.churn import evaluate_model

    features = dbt.ref("churn_features").arrow().read_all()
    return evaluate_model(
        features,
        seed=int(dbt.config.get("churn_seed")),
        max_training_rows=int(dbt.config.get("churn_max_training_rows")),
    )
