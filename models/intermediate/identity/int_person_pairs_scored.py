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
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from dbt.adapters.events.logging import AdapterLogger

    from c360.churn.registry import parse_flag
    from c360.identity.incremental import (
        delete_rows,
        frequencies_version,
        identity_version,
        model_digest,
        sibling,
        stable_mask,
        stored_table,
        tf_lookups,
    )
    from c360.identity.scoring import MATCH_COLUMNS, model_path, score_new_pairs, score_pairs

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
    # only the columns Splink compares leave the warehouse
    records = (
        dbt.ref("int_person_records_fingerprinted")
        .project(", ".join([*MATCH_COLUMNS, "record_fingerprint"]))
        .order("person_record_id")
        .arrow()
        .read_all()
    )
    tf = tf_lookups(frequencies, records.schema)
    log = AdapterLogger("c360")
    if set(frequencies.column("model_digest").to_pylist()) - {model_digest(path)}:
        # int_identity_frequencies was not rebuilt since the model changed (a selection
        # without it): Splink derives any TF table it lacks, the step is a full one
        log.warning(
            "identity scoring: the frozen frequencies were computed for another model file;"
            " build int_identity_frequencies to recompute them"
        )
    clustered = sibling(dbt.this, "int_person_records_clustered")
    state = stored_table(
        session,
        dbt.this,
        "int_person_records_clustered",
        "person_record_id, record_fingerprint, identity_version",
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
        return score_pairs(records, threshold=threshold, model_path=path, tf_tables=tf)

    stable = stable_mask(
        records.column("person_record_id").combine_chunks(),
        records.column("record_fingerprint").combine_chunks(),
        state.column("person_record_id").combine_chunks(),
        state.column("record_fingerprint").combine_chunks(),
    )
    stable_ids = records.column("person_record_id").filter(pa.array(stable)).combine_chunks()
    # every stored pair with an end that is not stable goes, also pairs scored by a build
    # that stopped before clustering (their records are still new) or of records gone since
    stored_ids = (
        session.sql(
            f"select person_record_id_l as id from {dbt.this}"
            f" union select person_record_id_r from {dbt.this}"
        )
        .arrow()
        .read_all()
        .column("id")
        .combine_chunks()
    )
    unstable = stored_ids.filter(pc.invert(pc.is_in(stored_ids, value_set=stable_ids)))
    delete_rows(session, dbt.this, "person_record_id_l", unstable)
    delete_rows(session, dbt.this, "person_record_id_r", unstable)
    new = records.filter(pa.array(~stable))
    log.info(
        f"identity scoring: incremental ({int(np.count_nonzero(~stable))} new or changed"
        f" records of {records.num_rows}, {len(unstable)} records' stored pairs dropped)"
    )
    return score_new_pairs(
        records.filter(pa.array(stable)), new, tf, threshold=threshold, model_path=path
    )
