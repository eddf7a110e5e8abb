"""The frozen frequencies identity scoring and guards use (c360.identity.incremental).

Splink's term-frequency tables of the model's TF columns and the guards' first-name counts,
computed over all person records once and kept: adding records then moves no old score and
no guard decision, so an incremental identity step equals a full one. Recomputed (a warning
says why) on the first build, on `dbt build --full-refresh`, when the scoring model file
changed or when the person records grew by more than var identity_frequencies_max_growth
since; a recomputation is a new identity version, so the next identity step is a full one.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="fail")
    from dbt.adapters.events.logging import AdapterLogger

    from c360.identity.incremental import (
        FREQUENCIES_SCHEMA,
        compute_frequencies,
        delete_rows,
        frequencies_refresh_reason,
        running_build,
    )
    from c360.identity.scoring import MATCH_COLUMNS, model_path

    path = model_path(dbt.config.get("model_path"))
    records = dbt.ref("int_person_records_unioned")
    stored = (
        session.sql(f"select * from {dbt.this}").arrow().read_all()
        if dbt.is_incremental
        else FREQUENCIES_SCHEMA.empty_table()
    )
    reason = (
        frequencies_refresh_reason(
            stored,
            path,
            records.count("*").fetchall()[0][0],
            float(dbt.config.get("max_growth")),
        )
        if dbt.is_incremental
        else "first build or --full-refresh"
    )
    if reason is None:
        return FREQUENCIES_SCHEMA.empty_table()
    AdapterLogger("c360").warning(
        f"identity: recomputing the frozen frequencies ({reason}); the identity step is a full one"
    )
    if dbt.is_incremental:
        delete_rows(session, dbt.this, "frequency_kind", stored.column("frequency_kind").unique())
    return compute_frequencies(
        records.project(", ".join(MATCH_COLUMNS)).arrow().read_all(), path, running_build(session)
    )
