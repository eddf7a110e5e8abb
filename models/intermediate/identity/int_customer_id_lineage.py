"""The stable customer ids' state: one append-only table kept across builds.

Incremental append with full_refresh false, so `dbt build --full-refresh` rebuilds the
clustering but never this: ids survive it. Each build reads its previous mapping and
registry from the rows appended so far, assigns this build's clusters their ids and appends
its history events and registry changes (c360.identity.stable_ids.next_lineage; nothing when
nothing changed). After an incremental clustering only the re-clustered records, the records
gone and the state they name are read, selected in SQL (next_lineage_in_warehouse).
Starting the ids over is var identity_restart_customer_ids, never a side effect.
docs/identity-over-time.md.
"""


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        full_refresh=False,
        on_schema_change="fail",
    )
    import datetime as dt

    from dbt.adapters.events.logging import AdapterLogger

    from c360.flags import parse_flag
    from c360.identity.incremental import sibling
    from c360.identity.stable_ids import next_lineage_in_warehouse

    def pairs_of(relation):
        return [(a, b) for a, b in relation.project("record_id_a, record_id_b").fetchall()]

    # this build as ops.build_runs names it (on-run-start, macro record_build_start): its
    # invocation id and start, stored in the session's time zone
    build = session.sql(
        "select invocation_id,"
        " epoch_us(timezone(current_setting('TimeZone'), started_at)) as started_us"
        " from ops.build_runs where status = 'running' order by started_at desc limit 1"
    ).fetchall()
    if not build:
        raise RuntimeError("no running build in ops.build_runs: run through dbt run or dbt build")
    build_id, started_us = build[0]
    built_at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=started_us)

    # the previous build's erasure requests, by the ids it gave (this build's
    # int_erased_customers reads the ids assigned here, so it cannot be a ref)
    erased = None
    found = session.sql(
        "select 1 from information_schema.tables where table_catalog = ?"
        " and table_schema = ? and table_name = 'int_erased_customers'",
        params=[dbt.this.database, dbt.this.schema],
    ).fetchall()
    if found and dbt.is_incremental:
        erased = (
            session.sql(
                f'select request_id, customer_id from "{dbt.this.database}"'
                f'."{dbt.this.schema}"."int_erased_customers"'
            )
            .arrow()
            .read_all()
        )
    dbt.ref("int_person_records_clustered")  # a dependency: read below through SQL
    # only the records clustered by a build the lineage does not know (an incremental
    # clustering's re-clustered components), the previous state they name and the records
    # gone leave the warehouse; everything else keeps its id
    rows, read = next_lineage_in_warehouse(
        session,
        str(dbt.this) if dbt.is_incremental else None,
        sibling(dbt.this, "int_person_records_clustered"),
        build_id,
        built_at,
        must_link=pairs_of(dbt.ref("identity_must_link")),
        cannot_link=pairs_of(dbt.ref("identity_cannot_link")),
        erased_customers=erased,
        restart=parse_flag(
            "var identity_restart_customer_ids", dbt.config.get("restart_customer_ids")
        ),
    )
    detail = ", ".join(f"{key} {value}" for key, value in read.items() if key != "path")
    AdapterLogger("c360").info(f"identity ids: {read['path']} ({detail}), {rows.num_rows} rows")
    return rows
