"""Record pairs scored by the committed Splink model (c360.identity.scoring), incrementally.

Scores with the frozen frequencies (int_identity_frequencies). The clustering state
(int_person_records_clustered, as the last completed build left it) says which records the
stored pairs were scored for: when it holds this build's identity version, the pairs of
every record that is not stable (new, changed or gone since) are deleted and only new x
stable and new x new pairs are scored (Splink predict_between / predict_within); otherwise,
or with var identity_full_refresh, every pair is scored again. c360.identity.incremental.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append", on_schema_change="fail")
    from dbt.adapters.events.logging import AdapterLogger

    from c360.flags import parse_flag
    from c360.identity.incremental import (
        forget_changes,
        frequencies_version,
        identity_version,
        model_digest,
        record_changes,
        running_build,
        scored_before,
        sibling,
        stored_table,
        tf_lookups,
        unstable_sql,
    )
    from c360.identity.scoring import (
        MATCH_COLUMNS,
        blocking_partners_sql,
        model_path,
        score_new_pairs,
        score_pairs,
    )

    path = model_path(dbt.config.get("model_path"))
    threshold = float(dbt.config.get("min_pair_probability"))
    frequencies = dbt.ref("int_identity_frequencies").arrow().read_all()
    version = identity_version(
        path,
        frequencies_version(frequencies),
        threshold,
        float(dbt.config.get("match_threshold")),
        int(dbt.config.get("max_cluster_size")),
    )
    fingerprinted = dbt.ref("int_person_records_fingerprinted")
    columns = ", ".join(MATCH_COLUMNS)
    tf = tf_lookups(frequencies, fingerprinted.project(columns).limit(0).arrow().read_all().schema)
    log = AdapterLogger("c360")
    if set(frequencies.column("model_digest").to_pylist()) - {model_digest(path)}:
        # int_identity_frequencies was not rebuilt since the model changed (a selection
        # without it): Splink derives any TF table it lacks, the step is a full one
        log.warning(
            "identity scoring: the frozen frequencies were computed for another model file;"
            " build int_identity_frequencies to recompute them"
        )
    clustered = sibling(dbt.this, "int_person_records_clustered")
    # the versions of the clustering state only: its rows stay in the warehouse
    state = stored_table(
        session, dbt.this, "int_person_records_clustered", "distinct identity_version"
    )

    reason = None
    if not dbt.is_incremental:
        reason = "first build or --full-refresh"
    elif parse_flag("var identity_full_refresh", dbt.config.get("identity_full_refresh")):
        reason = "var identity_full_refresh"
    elif state is None or state.num_rows == 0:
        reason = "no clustering state stored"
    elif set(state.column("identity_version").to_pylist()) != {version}:
        reason = "the identity version changed (model, frequencies, thresholds or code)"
    if reason is not None:
        log.info(f"identity scoring: full ({reason})")
        if dbt.is_incremental and state is not None:
            # the clustering state no longer describes the stored pairs: without it the
            # next build scores in full again even if this one stops before appending
            session.execute(f"delete from {clustered}")
        if dbt.is_incremental:
            session.execute(f"delete from {dbt.this}")
        forget_changes(session, dbt.this)
        records = fingerprinted.project(columns).order("person_record_id").arrow().read_all()
        return score_pairs(records, threshold=threshold, model_path=path, tf_tables=tf)

    # Which records are stable, which stored pairs go and which records Splink needs are
    # decided in SQL from one join of the records with the clustering state: only the new
    # records and their blocking partners leave the warehouse.
    source = sibling(dbt.this, "int_person_records_fingerprinted")
    unstable = unstable_sql(source, clustered, scored_before(session, dbt.this))
    session.execute(f"create or replace temp table c360_unstable as {unstable}")
    try:
        # for the clustering of this build (read_changes): it need not compare the
        # fingerprints again
        record_changes(session, dbt.this, "select * from c360_unstable", running_build(session))
        unstable_ids = "(select person_record_id from c360_unstable)"
        # the records whose stored pairs go: every pair with an end that is not stable
        # goes, also pairs scored by a build that stopped before clustering (their records
        # are still new, or gone: scored_before) or of records gone since
        dropped = session.sql(
            "select count(distinct person_record_id) from ("
            f" select person_record_id_l as person_record_id from {dbt.this}"
            f" where person_record_id_l in {unstable_ids}"
            f" union all select person_record_id_r from {dbt.this}"
            f" where person_record_id_r in {unstable_ids})"
        ).fetchall()[0][0]
        session.execute(
            f"delete from {dbt.this} where person_record_id_l in {unstable_ids}"
            f" or person_record_id_r in {unstable_ids}"
        )
        total = session.sql(f"select count(*) from {source}").fetchall()[0][0]
        new = (
            session.sql(
                f"select {columns} from {source} where person_record_id in"
                " (select person_record_id from c360_unstable where is_present)"
                " order by person_record_id"
            )
            .arrow()
            .read_all()
        )
        session.register("c360_new_person_records", new)
        try:
            existing = (
                session.sql(
                    f"select {columns} from {source} where person_record_id in"
                    f" ({blocking_partners_sql(path, source, 'c360_new_person_records')})"
                    f" and person_record_id not in {unstable_ids}"
                    " order by person_record_id"
                )
                .arrow()
                .read_all()
            )
        finally:
            session.unregister("c360_new_person_records")
    finally:
        session.execute("drop table if exists c360_unstable")
    log.info(
        f"identity scoring: incremental ({new.num_rows} new or changed records of {total},"
        f" scored against the {existing.num_rows} stable ones sharing a blocking key with"
        f" one, {dropped} records' stored pairs dropped)"
    )
    return score_new_pairs(existing, new, tf, threshold=threshold, model_path=path)
