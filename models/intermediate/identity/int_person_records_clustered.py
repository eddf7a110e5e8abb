"""Customer id per person record: guarded clustering of the scored pairs plus overrides."""


def model(dbt, session):
    dbt.config(materialized="table")
    import pyarrow as pa

    from c360.identity.clustering import GUARD_COLUMNS, cluster_records

    def pairs_of(relation):
        rows = relation.project("record_id_a, record_id_b").fetchall()
        return [(a, b) for a, b in rows]

    # only what the guards read, in key order (cluster_records would otherwise sort it)
    records = (
        dbt.ref("int_person_records_unioned")
        .project(", ".join(GUARD_COLUMNS))
        .order("person_record_id")
        .arrow()
        .read_all()
    )
    columns = "person_record_id_l, person_record_id_r, match_probability"
    pairs = pa.concat_tables(
        [
            dbt.ref("int_identity_edges_deterministic")
            .project(f"{columns}, false as is_contradictory")
            .arrow()
            .read_all(),
            dbt.ref("int_person_pairs_scored")
            .project(f"{columns}, is_contradictory")
            .arrow()
            .read_all(),
        ]
    )
    clustered, _ = cluster_records(
        records,
        pairs,
        threshold=float(dbt.config.get("match_threshold")),
        max_cluster_size=int(dbt.config.get("max_cluster_size")),
        must_link=pairs_of(dbt.ref("identity_must_link")),
        cannot_link=pairs_of(dbt.ref("identity_cannot_link")),
    )
    return clustered
