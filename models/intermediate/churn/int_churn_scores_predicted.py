"""Churn probability, risk band and top drivers for the latest churn_features snapshot.

Fits the classifier on the deterministic sample of labelled snapshots
(int_churn_training_sample) and scores every customer of the latest one (c360.churn).
With too little history (a new data set) the table is empty and the build goes on.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import logging

    import pyarrow as pa

    from c360.churn import SCORES_SCHEMA, NotEnoughHistory, score_latest

    seed = int(dbt.config.get("churn_seed"))
    cap = int(dbt.config.get("churn_max_training_rows"))
    features = dbt.ref("churn_features")
    sample = dbt.ref("int_churn_training_sample").arrow().read_all()
    latest_date = features.aggregate("max(snapshot_date)").fetchall()[0][0]
    latest = features.filter(f"snapshot_date = date '{latest_date}'")
    try:
        result = score_latest(
            pa.concat_tables([sample, latest.arrow().read_all()]),
            seed=seed,
            max_training_rows=cap,
            high_risk=float(dbt.config.get("churn_high_risk")),
            medium_risk=float(dbt.config.get("churn_medium_risk")),
        )
    except NotEnoughHistory as reason:
        logging.getLogger("c360").warning("churn scores not computed: %s", reason)
        result = SCORES_SCHEMA.empty_table()
    return result
