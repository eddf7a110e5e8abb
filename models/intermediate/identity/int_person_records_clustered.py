"""Customer id per person record: guarded clustering of the scored pairs plus overrides.

Incremental (c360.identity.incremental.cluster_step): besides its customer id each record
keeps its fingerprint, its component (of the edges at the match threshold and must-links,
inside which the guards decide) and a digest of its deterministic edges and override rows.
A build re-clusters only the components touched by new, changed or gone records or by
changed deterministic edges or overrides, with the same cluster_records, guards and frozen
name counts, and keeps every other row. It clusters everything on the first build, on
--full-refresh, with var identity_full_refresh, and when the identity version changed.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="fail")
    import pyarrow as pa
    from dbt.adapters.events.logging import AdapterLogger

    from c360.churn.registry import parse_flag
    from c360.identity.clustering import GUARD_COLUMNS
    from c360.identity.incremental import (
        cluster_step,
        delete_rows,
        frequencies_version,
        identity_version,
        name_counts,
        running_build,
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
    # only what the guards read, in key order (cluster_records would otherwise sort it)
    records = (
        dbt.ref("int_person_records_fingerprinted")
        .project(", ".join([*GUARD_COLUMNS, "record_fingerprint"]))
        .order("person_record_id")
        .arrow()
        .read_all()
    )
    deterministic = dbt.ref("int_identity_edges_deterministic")
    columns = "person_record_id_l, person_record_id_r, match_probability"
    # cluster_records joins only the edges at the threshold that are not contradictory and
    # ignores every other pair: only those leave the warehouse, not every scored pair
    strong = f"cast(match_probability as double) >= cast({threshold!r} as double)"
    pairs = pa.concat_tables(
        [
            deterministic.filter(strong)
            .project(f"{columns}, false as is_contradictory")
            .arrow()
            .read_all(),
            dbt.ref("int_person_pairs_scored")
            .filter(f"{strong} and not coalesce(is_contradictory, false)")
            .project(f"{columns}, is_contradictory")
            .arrow()
            .read_all(),
        ]
    )
    # the columns cluster_step compares (the versions apart): not the stored clusters
    state = (
        "person_record_id, record_fingerprint, edge_digest, identity_component, identity_version"
    )
    previous = (
        session.sql(f"select {state} from {dbt.this}").arrow().read_all()
        if dbt.is_incremental
        else None
    )

    reason = None
    if previous is None:
        reason = "first build or --full-refresh"
    elif parse_flag("var identity_full_refresh", dbt.config.get("identity_full_refresh")):
        reason = "var identity_full_refresh"
    elif previous.num_rows == 0:
        reason = "no clustering state stored"
    elif set(previous.column("identity_version").unique().to_pylist()) != {version}:
        reason = "the identity version changed (model, frequencies, thresholds or code)"
    rows, delete, stats = cluster_step(
        records,
        pairs,
        None if reason else previous,
        version=version,
        build_id=running_build(session),
        threshold=threshold,
        max_cluster_size=max_cluster_size,
        deterministic=pairs_of(deterministic, "person_record_id_l", "person_record_id_r"),
        must_link=pairs_of(dbt.ref("identity_must_link")),
        cannot_link=pairs_of(dbt.ref("identity_cannot_link")),
        name_counts=name_counts(frequencies),
    )
    log = AdapterLogger("c360")
    if reason:
        log.info(f"identity clustering: full ({reason}), {stats['records']} records")
        if previous is not None:
            session.execute(f"delete from {dbt.this}")
    else:
        log.info(
            f"identity clustering: incremental, re-clustered {stats['reclustered']} of"
            f" {stats['records']} records ({stats['seeds']} new, changed or re-linked,"
            f" {stats['removed']} gone)"
        )
        delete_rows(session, dbt.this, "person_record_id", delete)
    return rows
