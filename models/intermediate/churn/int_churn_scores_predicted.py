"""Churn probability, risk band and top drivers for the latest int_churn_features snapshot.

Scores every customer of the latest snapshot with the churn model version in use at the
as-of date, loaded from int_churn_models_trained (c360.churn.score_with_registry): nothing
is fitted here, so a customer's score depends only on that version and the customer's own
features. With no usable version (too little history to train one) the table is empty and
the build goes on.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from dbt.adapters.events.logging import AdapterLogger

    from c360.churn.registry import SCORED_SCHEMA, score_with_registry

    registry = dbt.ref("int_churn_models_trained").arrow().read_all()
    as_of = dbt.ref("int_as_of_date").fetchall()[0][0]
    features = dbt.ref("int_churn_features")
    latest_date = features.aggregate("max(snapshot_date)").fetchall()[0][0]
    latest = (
        features.filter(f"snapshot_date = date '{latest_date}'") if latest_date else features
    )
    scores, message = score_with_registry(
        registry,
        latest.arrow().read_all(),
        as_of=as_of,
        high_risk=float(dbt.config.get("churn_high_risk")),
        medium_risk=float(dbt.config.get("churn_medium_risk")),
    )
    AdapterLogger("c360").info(message)
    return SCORED_SCHEMA.empty_table() if scores is None else scores
