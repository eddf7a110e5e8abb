"""Holdout evaluation of the churn classifier beside the days-since-last-order baseline.

Trains on earlier labelled snapshots of churn_features and tests on the latest labelled
one (c360.churn); the metrics land in the churn_model_metrics mart. Only the deterministic
sample of labelled rows (int_churn_training_sample, shared with the scoring) leaves the
warehouse, so memory stays flat as the customer base grows. With too little history (a
new data set) the table is empty and the build goes on.

It is built after int_churn_scores_predicted (the ref below): the scoring is on the way to
customer_360 and takes both cores while it runs; this evaluation, on one thread, then
overlaps the marts downstream of the scores instead of slowing the scoring down.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import logging

    from c360.churn import METRICS_SCHEMA, NotEnoughHistory, evaluate_model

    seed = int(dbt.config.get("churn_seed"))
    cap = int(dbt.config.get("churn_max_training_rows"))
    dbt.ref("int_churn_scores_predicted")  # build order only (see the docstring)
    sample = dbt.ref("int_churn_training_sample").arrow().read_all()
    try:
        result = evaluate_model(sample, seed=seed, max_training_rows=cap)
    except NotEnoughHistory as reason:
        logging.getLogger("c360").warning("churn model not evaluated: %s", reason)
        result = METRICS_SCHEMA.empty_table()
    return result
