"""Customer id per person record: guarded clustering of the scored pairs plus overrides.

Incremental (c360.identity.incremental.cluster_step): besides its customer id each record
keeps its fingerprint, its component (of the edges at the match threshold and must-links,
inside which the guards decide) and a digest of its deterministic edges and override rows.
A build re-clusters only the components touched by new, changed or gone records or by
changed deterministic edges or overrides, with the same cluster_records, guards and frozen
name counts, and keeps every other row. Which records those are is decided in SQL
(affected_sql), so only they and their pairs leave the warehouse. It clusters everything
on the first build, on --full-refresh, with var identity_full_refresh, and when the
identity version changed.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="fail")
    import pyarrow as pa
    from dbt.adapters.events.logging import AdapterLogger

    from c360.flags import parse_flag
    from c360.identity.clustering import GUARD_COLUMNS
    from c360.identity.incremental import (
        affected_sql,
        cluster_step,
        frequencies_version,
        identity_version,
        name_counts,
        partner_digests,
        read_changes,
        running_build,
        sibling,
        unstable_sql,
    )
    from c360.identity.scoring import model_path

    def pairs_of(relation, left="record_id_a", right="record_id_b"):
        rows = relation.project(f"{left}, {right}").fetchall()
        return [(a, b) for a, b in rows]

    frequencies = dbt.ref("int_identity_frequencies").arrow().read_all()
    threshold = float(dbt.config.get("match_threshold"))
    max_cluster_size = int(dbt.config.get("max_cluster_size"))
    version = identity_version(
        model_path(dbt.config.get("model_path")),
        frequencies_version(frequencies),
        float(dbt.config.get("min_pair_probability")),
        threshold,
        max_cluster_size,
    )
    fingerprinted = dbt.ref("int_person_records_fingerprinted")
    deterministic = dbt.ref("int_identity_edges_deterministic")
    dbt.ref("int_person_pairs_scored")  # a dependency: read below through SQL
    # cluster_records joins only the edges at the threshold that are not contradictory and
    # ignores every other pair: only those are read, not every scored pair
    strong = f"cast(match_probability as double) >= cast({threshold!r} as double)"
    columns = "person_record_id_l, person_record_id_r, match_probability"
    pairs_sql = (
        f"select {columns}, false as is_contradictory"
        f" from {sibling(dbt.this, 'int_identity_edges_deterministic')} where {strong}"
        f" union all select {columns}, is_contradictory"
        f" from {sibling(dbt.this, 'int_person_pairs_scored')}"
        f" where {strong} and not coalesce(is_contradictory, false)"
    )
    records_sql = sibling(dbt.this, "int_person_records_fingerprinted")
    # only what the guards read, in key order (cluster_records would otherwise sort it)
    guarded = ", ".join([*GUARD_COLUMNS, "record_fingerprint"])
    overrides = {
        "deterministic": pairs_of(deterministic, "person_record_id_l", "person_record_id_r"),
        "must_link": pairs_of(dbt.ref("identity_must_link")),
        "cannot_link": pairs_of(dbt.ref("identity_cannot_link")),
    }
    build_id = running_build(session)
    # every record's digest of its overrides, computed once: the SQL below compares them
    # with the state's and cluster_step stores them
    digests = partner_digests(**overrides)
    options = dict(
        version=version,
        build_id=build_id,
        threshold=threshold,
        max_cluster_size=max_cluster_size,
        name_counts=name_counts(frequencies),
        named_digests=digests,
        **overrides,
    )
    # the state's versions only: its rows stay in the warehouse
    versions = (
        session.sql(f"select distinct identity_version from {dbt.this}").fetchall()
        if dbt.is_incremental
        else None
    )

    reason = None
    if versions is None:
        reason = "first build or --full-refresh"
    elif parse_flag("var identity_full_refresh", dbt.config.get("identity_full_refresh")):
        reason = "var identity_full_refresh"
    elif not versions:
        reason = "no clustering state stored"
    elif {v for (v,) in versions} != {version}:
        reason = "the identity version changed (model, frequencies, thresholds or code)"
    log = AdapterLogger("c360")
    if reason:
        records = fingerprinted.project(guarded).order("person_record_id").arrow().read_all()
        pairs = session.sql(pairs_sql).arrow().read_all()
        rows, _, stats = cluster_step(records, pairs, None, **options)
        log.info(f"identity clustering: full ({reason}), {stats['records']} records")
        if versions is not None:
            session.execute(f"delete from {dbt.this}")
        return rows

    # Which records to re-cluster is decided in the warehouse (affected_sql); only they,
    # their pairs and their overrides' digests are read, and they are clustered as a whole
    # (their components are whole components), exactly as cluster_step would.
    must = overrides["must_link"]
    session.register("c360_partner_digests", digests)
    session.register(
        "c360_must_links",
        pa.table(
            {
                "person_record_id_l": pa.array([a for a, _ in must], pa.string()),
                "person_record_id_r": pa.array([b for _, b in must], pa.string()),
            }
        ),
    )
    edges = (
        f"(select person_record_id_l, person_record_id_r from ({pairs_sql})"
        " union all select person_record_id_l, person_record_id_r from c360_must_links)"
    )
    # the records not stable since the state, as this build's scoring found them, else
    # compared here (one join of the fingerprints with the state)
    changes = read_changes(session, dbt.this, build_id)
    found_by = "as scoring found them" if changes else "compared here"
    session.execute(
        "create or replace temp table c360_changes as"
        f" {changes or unstable_sql(records_sql, str(dbt.this))}"
    )
    try:
        session.execute(
            "create or replace temp table c360_affected as"
            f" {affected_sql(str(dbt.this), 'c360_partner_digests', edges, 'c360_changes')}"
        )
    finally:
        session.unregister("c360_partner_digests")
        session.unregister("c360_must_links")
    try:
        part = (
            session.sql(
                f"select {guarded} from {records_sql} where person_record_id in"
                " (select person_record_id from c360_affected) order by person_record_id"
            )
            .arrow()
            .read_all()
        )
        part_pairs = (
            session.sql(
                f"select * from ({pairs_sql}) where person_record_id_l in"
                " (select person_record_id from c360_affected) and person_record_id_r in"
                " (select person_record_id from c360_affected)"
            )
            .arrow()
            .read_all()
        )
        seeds = session.sql("select count(*) from c360_affected where is_seed").fetchall()[0][0]
        total = session.sql(f"select count(*) from {records_sql}").fetchall()[0][0]
        rows, _, _ = cluster_step(part, part_pairs, None, **options)
        # the stored rows of the records re-clustered and of the records gone
        gone = session.execute(
            f"delete from {dbt.this} where person_record_id in"
            " (select person_record_id from c360_changes where not is_present)"
            " returning person_record_id"
        ).fetchall()
        session.execute(
            f"delete from {dbt.this} where person_record_id in"
            " (select person_record_id from c360_affected)"
        )
    finally:
        session.execute("drop table if exists c360_affected")
        session.execute("drop table if exists c360_changes")
    log.info(
        f"identity clustering: incremental, re-clustered {rows.num_rows} of {total} records"
        f" ({seeds} new, changed or re-linked, {len(gone)} gone;"
        f" changes {found_by})"
    )
    return rows
