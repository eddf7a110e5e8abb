"""Churn probability, risk band and top drivers for the latest churn_features snapshot.

Fits the classifier on every labelled snapshot (c360.churn) and scores the latest one.
With too little history (a new data set) the table is empty and the build goes on.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import logging

    from c360.churn import SCORES_SCHEMA, NotEnoughHistory, score_latest

    features = dbt.ref("churn_features").arrow().read_all()
    try:
        result = score_latest(
            features,
            seed=int(dbt.config.get("churn_seed")),
            max_training_rows=int(dbt.config.get("churn_max_training_rows")),
            high_risk=float(dbt.config.get("churn_high_risk")),
            medium_risk=float(dbt.config.get("churn_medium_risk")),
        )
    except NotEnoughHistory as reason:
        logging.getLogger("c360").warning("churn scores not computed: %s", reason)
        result = SCORES_SCHEMA.empty_table()
    return result
