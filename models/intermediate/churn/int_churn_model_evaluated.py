"""Holdout evaluation of the churn classifier beside the days-since-last-order baseline.

Trains on earlier labelled snapshots of churn_features and tests on the latest labelled
one (c360.churn); the metrics land in the churn_model_metrics mart. With too little
history (a new data set) the table is empty and the build goes on.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import logging

    from c360.churn import METRICS_SCHEMA, NotEnoughHistory, evaluate_model

    features = dbt.ref("churn_features").arrow().read_all()
    try:
        result = evaluate_model(
            features,
            seed=int(dbt.config.get("churn_seed")),
            max_training_rows=int(dbt.config.get("churn_max_training_rows")),
        )
    except NotEnoughHistory as reason:
        logging.getLogger("c360").warning("churn model not evaluated: %s", reason)
        result = METRICS_SCHEMA.empty_table()
    return result
