"""The churn model registry: one row per trained churn model version, kept across builds.

Append-only (incremental, and full_refresh false so `dbt build --full-refresh` keeps it):
a build appends a version only when it must train one (none stored, forced by var
churn_train_new_model, the stored one incompatible with churn_features or older than var
churn_max_model_age_days); otherwise it appends nothing and int_churn_scores_predicted
loads the stored version. Each row holds the model (skops), what scoring derives from its
training rows, its provenance and its holdout metrics (c360.churn.registry).
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        full_refresh=False,
        on_schema_change="fail",
    )
    from dbt.adapters.events.logging import AdapterLogger

    from c360.churn import REGISTRY_SCHEMA, feature_types, update_registry
    from c360.flags import parse_flag

    force_var = dbt.config.get("churn_train_new_model")
    force_env = dbt.config.get("churn_train_new_model_env")
    sample = dbt.ref("int_churn_training_sample")
    as_of = dbt.ref("int_as_of_date").fetchall()[0][0]
    stored = (
        session.sql(f"select * from {dbt.this}").arrow().read_all()
        if dbt.is_incremental
        else REGISTRY_SCHEMA.empty_table()
    )
    rows, message = update_registry(
        stored,
        lambda: sample.arrow().read_all(),
        as_of=as_of,
        types=feature_types(sample.limit(0).arrow().read_all()),
        max_age_days=int(dbt.config.get("churn_max_model_age_days")),
        force=parse_flag("var churn_train_new_model", force_var)
        or parse_flag("env C360_CHURN_TRAIN_NEW_MODEL", force_env),
        seed=int(dbt.config.get("churn_seed")),
        max_training_rows=int(dbt.config.get("churn_max_training_rows")),
    )
    AdapterLogger("c360").info(message)
    return rows
