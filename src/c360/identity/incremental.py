"""Incremental linkage: the state the identity step keeps between builds, and what it redoes.

Three stateful models (docs/identity-over-time.md, "Incremental linkage"):

- int_identity_frequencies freezes Splink's term-frequency tables and the guards' first-name
  counts, so that adding records moves no old score and no guard decision;
- int_person_pairs_scored drops the pairs of records that are not stable (new, changed or
  gone since the clustering state) and scores only new x stable and new x new pairs;
- int_person_records_clustered keeps per record its fingerprint, component and edge digest,
  and re-clusters only the components a change touches.

Both stateful identity models compare against the clustering state of the last build that
completed it, so a build stopped between scoring and clustering is redone by the next one:
the records it scored are still "new" then, and their pairs are deleted before they are
scored again.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.identity import clustering, scoring
from c360.identity.clustering import GUARD_COLUMNS, connected_components
from c360.identity.scoring import MATCH_COLUMNS

# What a record's fingerprint covers (int_person_records_fingerprinted): everything Splink
# compares and the guards read, so any change that can move a score or a guard decision
# makes the record "changed".
FINGERPRINT_COLUMNS = sorted(set(MATCH_COLUMNS) | set(GUARD_COLUMNS))
GUARD_NAME_COLUMNS = ["first_name_key", "first_name_canonical"]
FREQUENCIES_SCHEMA = pa.schema(
    [
        ("frequency_kind", pa.string()),  # splink_tf | guard_first_name
        ("column_name", pa.string()),
        ("term", pa.string()),
        ("term_frequency", pa.float64()),
        ("record_count", pa.int64()),
        ("frequencies_version", pa.string()),
        ("model_digest", pa.string()),
        ("person_records", pa.int64()),
    ]
)
# The sources whose code decides a score or a cluster: a change to them is a new version.
_VERSIONED_SOURCES = [Path(scoring.__file__), Path(clustering.__file__)]


def digest(parts: Iterable[str | bytes]) -> str:
    """Short SHA-256 of the parts (each length-prefixed, so no two part lists collide)."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()[:16]


def model_digest(model_path: Path) -> str:
    return digest([Path(model_path).read_bytes()])


def identity_version(
    model_path: Path,
    frequencies_version: str,
    min_pair_probability: float,
    match_threshold: float,
    max_cluster_size: int,
) -> str:
    """Everything a stored score or cluster depends on besides the records themselves: the
    model file, the frozen frequencies, the thresholds and the scoring and guard code. Two
    builds with one version score any pair and cluster any component identically."""
    return digest(
        [
            Path(model_path).read_bytes(),
            frequencies_version,
            repr(float(min_pair_probability)),
            repr(float(match_threshold)),
            repr(int(max_cluster_size)),
            *(path.read_bytes() for path in _VERSIONED_SOURCES),
        ]
    )


# --- frozen frequencies ---------------------------------------------------------------


def frequencies_refresh_reason(
    stored: pa.Table, model_path: Path, person_records: int, max_growth: float
) -> str | None:
    """Why the stored frequencies must be recomputed, or None to keep them."""
    if stored.num_rows == 0:
        return "no frequencies stored yet"
    if set(stored.column("model_digest").to_pylist()) != {model_digest(model_path)}:
        return "the scoring model file changed since they were computed"
    computed_on = int(pc.max(stored.column("person_records")).as_py())
    if person_records > computed_on * (1 + max_growth):
        return (
            f"person records grew from {computed_on} to {person_records}, more than"
            f" var identity_frequencies_max_growth ({max_growth:.0%})"
        )
    return None


def compute_frequencies(
    records: pa.Table, model_path: Path, version: str, threads: int = 2
) -> pa.Table:
    """Splink's TF tables of the model's TF columns and the guards' first-name counts over
    `records`, as FREQUENCIES_SCHEMA rows stamped with `version`."""
    parts = []
    n = records.num_rows
    for column, table in scoring.compute_tf_tables(records, model_path, threads).items():
        terms = pc.cast(table.column(column), pa.string())
        parts.append(
            _frequency_rows("splink_tf", column, terms, table.column(f"tf_{column}"), None, n)
        )
    for column in GUARD_NAME_COLUMNS:
        if column not in records.column_names:
            continue
        found = pc.value_counts(records.column(column).combine_chunks())
        values = found.field("values")
        keep = pc.is_valid(values)
        parts.append(
            _frequency_rows(
                "guard_first_name",
                column,
                values.filter(keep),
                None,
                found.field("counts").filter(keep),
                n,
            )
        )
    table = pa.concat_tables(parts) if parts else FREQUENCIES_SCHEMA.empty_table()
    digest_of_model = model_digest(model_path)
    rows = table.num_rows
    return table.set_column(
        5, "frequencies_version", pa.array([version] * rows, pa.string())
    ).set_column(6, "model_digest", pa.array([digest_of_model] * rows, pa.string()))


def _frequency_rows(kind, column, terms, frequencies, counts, person_records) -> pa.Table:
    rows = len(terms)
    return pa.table(
        [
            pa.array([kind] * rows, pa.string()),
            pa.array([column] * rows, pa.string()),
            pc.cast(terms, pa.string()),
            pc.cast(frequencies, pa.float64()) if frequencies is not None else pa.nulls(rows),
            pc.cast(counts, pa.int64()) if counts is not None else pa.nulls(rows, pa.int64()),
            pa.nulls(rows, pa.string()),
            pa.nulls(rows, pa.string()),
            pa.array([person_records] * rows, pa.int64()),
        ],
        schema=FREQUENCIES_SCHEMA,
    )


def frequencies_version(frequencies: pa.Table) -> str:
    versions = set(frequencies.column("frequencies_version").to_pylist())
    if not versions:  # no person records had anything to count
        return "none"
    if len(versions) != 1:
        raise ValueError(
            f"int_identity_frequencies holds {len(versions)} versions, expected one:"
            " rebuild it with `dbt build -s int_identity_frequencies --full-refresh`"
        )
    return versions.pop()


def tf_lookups(frequencies: pa.Table, records_schema: pa.Schema) -> dict[str, pa.Table]:
    """The frozen TF tables in the shape Splink registers: {column}, tf_{column}, the term
    cast back to the records' type of the column."""
    tf = frequencies.filter(pc.equal(frequencies.column("frequency_kind"), "splink_tf"))
    lookups = {}
    for column in sorted(set(tf.column("column_name").to_pylist())):
        rows = tf.filter(pc.equal(tf.column("column_name"), column))
        lookups[column] = pa.table(
            {
                column: pc.cast(rows.column("term"), records_schema.field(column).type),
                f"tf_{column}": rows.column("term_frequency"),
            }
        )
    return lookups


def name_counts(frequencies: pa.Table) -> dict[str, int]:
    """Records carrying each first name (as key or canonical name, the larger count), as
    the guards count them (clustering._name_counts), frozen."""
    names = frequencies.filter(pc.equal(frequencies.column("frequency_kind"), "guard_first_name"))
    counts: dict[str, int] = {}
    for term, count in zip(
        names.column("term").to_pylist(), names.column("record_count").to_pylist(), strict=True
    ):
        counts[term] = max(counts.get(term, 0), count)
    return counts


# --- what changed ---------------------------------------------------------------------


def stable_mask(
    ids: pa.Array,
    fingerprints: pa.Array,
    previous_ids: pa.Array,
    previous_fingerprints: pa.Array,
    at: pa.Array | None = None,
) -> np.ndarray:
    """Per current record: was it in the previous state with the same fingerprint?
    at: pc.index_in(ids, previous_ids) when the caller has it (one hash table of millions
    of keys is the cost of this function)."""
    if at is None:
        at = pc.index_in(ids, value_set=previous_ids)
    same = pc.equal(pc.take(previous_fingerprints, at), fingerprints)
    return np.asarray(pc.fill_null(same, False).to_numpy(zero_copy_only=False), bool)


def edge_digests(
    ids: list[str] | pa.Array,
    deterministic: Iterable[tuple[str, str]],
    must_link: Iterable[tuple[str, str]],
    cannot_link: Iterable[tuple[str, str]],
    named: pa.Table | None = None,
) -> pa.Array:
    """Per record: a digest of its deterministic edges and override rows (partner and kind),
    '' when it has none. A record whose digest changed is re-clustered with its component.
    named: partner_digests of the same edges and rows, when the caller has them."""
    # only the few records with partners are hashed; the others are looked up, not looped
    if named is None:
        named = partner_digests(deterministic, must_link, cannot_link)
    at = pc.index_in(pa.array(ids, pa.string()), value_set=named.column("person_record_id"))
    digests = named.column("edge_digest").combine_chunks()
    return pc.fill_null(pc.take(digests, at), "")


# --- affected components --------------------------------------------------------------


def components(ids: pa.Array, left: np.ndarray, right: np.ndarray) -> pa.Array:
    """Per record (ids in key order): the smallest key of its connected component."""
    return ids.take(pa.array(connected_components(len(ids), left, right)))


def affected_records(
    component: pa.Array,
    seeds: np.ndarray,
    previous_component: pa.Array,
    removed_components: pa.Array,
) -> np.ndarray:
    """Boolean per current record: must it be re-clustered?

    component: its component now (strong edges and must-links); seeds: it is new, changed
    or its deterministic edges or overrides changed; previous_component: its component in
    the previous state (NULL for a new record); removed_components: the previous
    components of the records that are gone. Every record of a component now holding a
    seed or a record of an old component that held a seed or a gone record is affected.
    Any other component is unchanged: all its edges join stable records, so it was a
    component before, exactly, and the guards decide it as they did.
    """
    seeds = pa.array(seeds, pa.bool_())
    hit_before = pa.concat_arrays(
        [
            previous_component.filter(seeds).drop_null().cast(pa.string()),
            removed_components.cast(pa.string()),
        ]
    ).unique()
    base = pc.or_(seeds, pc.fill_null(pc.is_in(previous_component, value_set=hit_before), False))
    hit_now = component.filter(base).unique()
    return np.asarray(pc.is_in(component, value_set=hit_now).to_numpy(zero_copy_only=False), bool)


def strong_edges(pairs: pa.Table, ids: pa.Array, threshold: float) -> tuple[np.ndarray, ...]:
    """The positions (in `ids`) of the edges clustering joins at the threshold: as
    cluster_records keeps them (not contradictory, both ends person records)."""
    keep = pc.greater_equal(pc.cast(pairs.column("match_probability"), pa.float64()), threshold)
    if "is_contradictory" in pairs.column_names:
        keep = pc.and_(keep, pc.invert(pc.fill_null(pairs.column("is_contradictory"), False)))
    strong = pairs.filter(keep)
    # both ends in one lookup: index_in builds its hash table of the ids per call
    ends = pc.index_in(
        pa.chunked_array(
            strong.column("person_record_id_l").chunks + strong.column("person_record_id_r").chunks,
            pa.string(),
        ),
        value_set=ids,
    ).combine_chunks()
    left, right = ends[: strong.num_rows], ends[strong.num_rows :]
    known = pc.and_(pc.is_valid(left), pc.is_valid(right))
    return (
        left.filter(known).to_numpy(zero_copy_only=False).astype(np.int64),
        right.filter(known).to_numpy(zero_copy_only=False).astype(np.int64),
    )


def positions(ids: pa.Array, pairs: Iterable[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the pairs whose both records are in `ids`."""
    pairs = list(pairs)
    if not pairs:
        return np.array([], np.int64), np.array([], np.int64)
    left = pc.index_in(pa.array([a for a, _ in pairs], pa.string()), value_set=ids)
    right = pc.index_in(pa.array([b for _, b in pairs], pa.string()), value_set=ids)
    known = pc.and_(pc.is_valid(left), pc.is_valid(right))
    return (
        left.filter(known).to_numpy(zero_copy_only=False).astype(np.int64),
        right.filter(known).to_numpy(zero_copy_only=False).astype(np.int64),
    )


CLUSTERED_SCHEMA = pa.schema(
    [
        ("person_record_id", pa.string()),
        ("customer_id", pa.string()),
        ("cluster_confidence", pa.float64()),
        ("record_fingerprint", pa.string()),
        ("edge_digest", pa.string()),
        ("identity_component", pa.string()),
        ("identity_version", pa.string()),
        ("clustered_in_build", pa.string()),
    ]
)


def cluster_step(
    records: pa.Table,
    pairs: pa.Table,
    previous: pa.Table | None,
    *,
    version: str,
    build_id: str,
    threshold: float,
    max_cluster_size: int,
    deterministic: list[tuple[str, str]],
    must_link: list[tuple[str, str]],
    cannot_link: list[tuple[str, str]],
    name_counts: dict[str, int],
    named_digests: pa.Table | None = None,
) -> tuple[pa.Table, pa.Array, dict]:
    """The clustering of this build: (rows to write, ids of stored rows to delete, stats).

    records: GUARD_COLUMNS and record_fingerprint in key order; pairs: every scored pair and
    deterministic edge (cluster_records' input); previous: the stored CLUSTERED_SCHEMA rows
    of the last build (None: cluster everything). Incremental, the rows to write are those
    of the affected components (affected_records), re-clustered with cluster_records, the
    frozen name counts and the same overrides, and the rows to delete are the stored rows of
    those records and of the records that are gone; everything else stays as stored.
    named_digests: partner_digests of the overrides, when the caller computed them already.
    """
    ids = records.column("person_record_id").combine_chunks()
    fingerprints = records.column("record_fingerprint").combine_chunks()
    digests = edge_digests(ids, deterministic, must_link, cannot_link, named_digests)
    left, right = strong_edges(pairs, ids, threshold)
    must_left, must_right = positions(ids, must_link)
    component = components(
        ids, np.concatenate([left, must_left]), np.concatenate([right, must_right])
    )
    if previous is None:
        affected = np.ones(len(ids), bool)
        delete = None
        stats = {"seeds": len(ids), "removed": 0}
    else:
        previous_ids = previous.column("person_record_id").combine_chunks()
        at = pc.index_in(ids, value_set=previous_ids)
        stable = stable_mask(
            ids,
            fingerprints,
            previous_ids,
            previous.column("record_fingerprint").combine_chunks(),
            at,
        )
        same_digest = stable_mask(
            ids, digests, previous_ids, previous.column("edge_digest").combine_chunks(), at
        )
        seeds = ~(stable & same_digest)
        previous_components = previous.column("identity_component").combine_chunks()
        gone = pc.invert(pc.is_in(previous_ids, value_set=ids))
        removed_components = previous_components.filter(gone)
        affected = affected_records(
            component, seeds, pc.take(previous_components, at), removed_components
        )
        # the stored rows of the affected records and of the records gone
        delete = pa.concat_arrays([previous_ids.filter(gone), ids.filter(pa.array(affected))])
        stats = {"seeds": int(seeds.sum()), "removed": len(removed_components)}
    index = pa.array(np.flatnonzero(affected))
    part = records.take(index)
    part_ids = part.column("person_record_id")
    inside = pc.and_(
        pc.is_in(pairs.column("person_record_id_l"), value_set=part_ids),
        pc.is_in(pairs.column("person_record_id_r"), value_set=part_ids),
    )
    clustered, _ = clustering.cluster_records(
        part,
        pairs.filter(inside),
        threshold=threshold,
        max_cluster_size=max_cluster_size,
        must_link=must_link,
        cannot_link=cannot_link,
        name_counts=name_counts,
    )
    rows = clustered.num_rows
    out = pa.table(
        [
            clustered.column("person_record_id"),
            clustered.column("customer_id"),
            clustered.column("cluster_confidence"),
            fingerprints.take(index),
            digests.take(index),
            component.filter(pa.array(affected)),
            pa.array([version] * rows, pa.string()),
            pa.array([build_id] * rows, pa.string()),
        ],
        schema=CLUSTERED_SCHEMA,
    )
    stats.update(reclustered=rows, records=len(ids))
    return out, delete, stats


def partner_digests(
    deterministic: Iterable[tuple[str, str]],
    must_link: Iterable[tuple[str, str]],
    cannot_link: Iterable[tuple[str, str]],
) -> pa.Table:
    """edge_digests of the records that have partners (person_record_id, edge_digest);
    every other record's digest is ''."""
    partners: dict[str, list[str]] = defaultdict(list)
    for kind, pairs in (("d", deterministic), ("m", must_link), ("c", cannot_link)):
        for a, b in pairs:
            partners[a].append(f"{kind}:{b}")
            partners[b].append(f"{kind}:{a}")
    return pa.table(
        {
            "person_record_id": pa.array(list(partners), pa.string()),
            "edge_digest": pa.array(
                [digest(sorted(found)) for found in partners.values()], pa.string()
            ),
        }
    )


def unstable_sql(records: str, state: str, scored_before: str | None = None) -> str:
    """SQL selecting every record that is not stable since `state` (the stored
    CLUSTERED_SCHEMA rows), as person_record_id, is_present: new or changed (in `records`,
    with person_record_id and record_fingerprint now, and not in the state with that
    fingerprint; is_present true), and gone (in the state only; false).

    scored_before: a query of the person_record_id an earlier scoring found new
    (CHANGES_TABLE). A build that stopped after scoring leaves pairs of records the state
    does not hold; if such a record is gone from `records` too by now, only this tells it
    (is_present false).

    One join of the records with the state: every later step starts from this small set
    (a semi join against it) instead of joining all records again."""
    sql = f"""
        select
            coalesce(r.person_record_id, s.person_record_id) as person_record_id,
            r.person_record_id is not null as is_present
        from {records} as r
        full outer join {state} as s on r.person_record_id = s.person_record_id
        where r.record_fingerprint is distinct from s.record_fingerprint"""
    if scored_before is None:
        return sql
    # (not) exists: DuckDB builds the anti joins' hash tables on the few records found
    return f"""{sql}
        union
        select b.person_record_id, false
        from ({scored_before}) as b
        where b.person_record_id is not null
            and not exists (
                select 1 from {records} as r where r.person_record_id = b.person_record_id
            )
            and not exists (
                select 1 from {state} as s where s.person_record_id = b.person_record_id
            )"""


def affected_sql(state: str, digests: str, edges: str, changes: str) -> str:
    """SQL selecting the person_record_id (and is_seed) of every record cluster_step
    re-clusters, from relations in the warehouse, so only those records and pairs are read.

    state: the stored CLUSTERED_SCHEMA rows; digests: partner_digests; edges:
    person_record_id_l, person_record_id_r of the edges clustering joins now (at the
    threshold, not contradictory) and the must-links; changes: a relation of the records
    not stable since `state` (unstable_sql, or as this build's scoring found them:
    read_changes), person_record_id and is_present.
    Seeds are the records new, changed or with another digest. Every edge now between two
    records that are not seeds was an edge of the state (scoring keeps the pairs of stable
    records as they were, and a changed deterministic edge or override changes both ends'
    digests), so the components now holding a seed or a record of a hit component
    (affected_records) are: the seeds, plus every stored component that held a seed or a
    record gone, or holds a record a seed is joined to now, whole. Only the state and the
    edges are scanned, each against the few records in `changes`.
    """
    return f"""
        with changes as (
            select person_record_id, is_present from {changes}
        ),
        gone as (
            select person_record_id from changes where not is_present
        ),
        seeds as (
            select person_record_id from changes where is_present
            union
            -- a record not new or changed is in the state: only its digest can differ
            select s.person_record_id
            from {state} as s
            left join {digests} as d on s.person_record_id = d.person_record_id
            where s.edge_digest is distinct from coalesce(d.edge_digest, '')
                and s.person_record_id not in (select person_record_id from gone)
        ),
        hit as (
            select s.identity_component from {state} as s
            where s.person_record_id in (select person_record_id from seeds)
            union
            select s.identity_component from {state} as s
            where s.person_record_id in (select person_record_id from gone)
            union
            select s.identity_component
            from {edges} as e
            inner join seeds as q on e.person_record_id_l = q.person_record_id
            inner join {state} as s on e.person_record_id_r = s.person_record_id
            union
            select s.identity_component
            from {edges} as e
            inner join seeds as q on e.person_record_id_r = q.person_record_id
            inner join {state} as s on e.person_record_id_l = s.person_record_id
        )
        select person_record_id, true as is_seed from seeds
        union all
        select s.person_record_id, false from {state} as s
        where s.identity_component in (select identity_component from hit)
            and s.person_record_id not in (select person_record_id from gone)
            and s.person_record_id not in (select person_record_id from seeds)
    """


# Where int_person_pairs_scored leaves the records it found new or changed (not stable),
# stamped with its build, for int_person_records_clustered of the same build: the
# fingerprints are then compared once per build, not once per model.
CHANGES_TABLE = "int_person_pairs_scored__changes"


def record_changes(session, this, changes: str, build_id: str) -> None:
    """Store `changes` (a query of person_record_id, is_present: unstable_sql's shape) as
    CHANGES_TABLE rows of build `build_id`, replacing any earlier build's. One row without
    a record stamps the build, so that "nothing changed" is told apart from "not recorded
    by this build"."""
    session.execute(
        f"create or replace table {sibling(this, CHANGES_TABLE)} as"
        " select cast(null as varchar) as person_record_id,"
        " cast(null as boolean) as is_present, cast(? as varchar) as found_in_build"
        f" union all select person_record_id, is_present, ? from ({changes})",
        [build_id, build_id],
    )


def forget_changes(session, this) -> None:
    """Drop CHANGES_TABLE (a full step: no set of changes describes it)."""
    session.execute(f"drop table if exists {sibling(this, CHANGES_TABLE)}")


def read_changes(session, this, build_id: str) -> str | None:
    """A query of the records (person_record_id, is_present) CHANGES_TABLE holds when build
    `build_id` wrote it, else None: a build whose scoring did not run or ran in full (a
    selection without it, dbt retry) derives the changes from the fingerprints again."""
    builds = stored_table(session, this, CHANGES_TABLE, "distinct found_in_build")
    if builds is None or builds.column("found_in_build").to_pylist() != [build_id]:
        return None
    return (
        f"select person_record_id, is_present from {sibling(this, CHANGES_TABLE)}"
        " where person_record_id is not null"
    )


def scored_before(session, this) -> str | None:
    """A query of the records an earlier scoring found new or changed (CHANGES_TABLE, any
    build's: unstable_sql's scored_before), None when none is recorded."""
    if stored_table(session, this, CHANGES_TABLE, "count(*) as n") is None:
        return None
    return (
        f"select person_record_id from {sibling(this, CHANGES_TABLE)}"
        " where person_record_id is not null"
    )


def running_build(session) -> str:
    """This build's invocation id as ops.build_runs names it (on-run-start hook)."""
    found = session.sql(
        "select invocation_id from ops.build_runs where status = 'running'"
        " order by started_at desc limit 1"
    ).fetchall()
    if not found:
        raise RuntimeError("no running build in ops.build_runs: run through dbt run or dbt build")
    return found[0][0]


def sibling(this, name: str) -> str:
    """The quoted name of another model's table in the schema of `this` (dbt.this)."""
    return f'"{this.database}"."{this.schema}"."{name}"'


def stored_table(session, this, name: str, columns: str = "*") -> pa.Table | None:
    """Rows of a model's table in the schema of `this` as an earlier build stored them (None
    when it does not exist): how a model reads state it cannot ref (a later model's)."""
    found = session.sql(
        "select 1 from information_schema.tables where table_catalog = ?"
        " and table_schema = ? and table_name = ?",
        params=[this.database, this.schema, name],
    ).fetchall()
    if not found:
        return None
    return session.sql(f"select {columns} from {sibling(this, name)}").arrow().read_all()


def delete_rows(session, relation, column: str, ids: pa.Array) -> None:
    """Delete the stored rows whose `column` is one of `ids` (before the model appends)."""
    if len(ids) == 0:
        return
    session.register("c360_ids_to_delete", pa.table({"id": ids}))
    try:
        session.execute(
            f"delete from {relation} where {column} in (select id from c360_ids_to_delete)"
        )
    finally:
        session.unregister("c360_ids_to_delete")
