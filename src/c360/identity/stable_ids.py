"""Stable customer ids: each build's clusters inherit the ids of the previous build's.

Clustering labels a cluster by whatever it contains today, so a label moves when a record
joins, leaves or is erased. Here a build's clusters are matched to the ids the previous
build issued, every change of a record's id becomes a history event, and a registry
remembers every id ever issued so none is issued twice.

Inheritance is a greedy matching. Every (new cluster, old id) pair that shares records is
a candidate; candidates are taken in one total order
  1. more records in common first,
  2. then the older id (lower issue_number: "ties go to the oldest id"),
  3. then the cluster with the smaller smallest record key (so the result never depends on
     input order or on the clusters' labels);
and a candidate is taken when neither its cluster nor its id is taken yet. So an id goes
to the cluster holding most of its records, a cluster gets the id most of its records had
when that id is still free, each id is used at most once, and the matching is maximal: a
cluster gets a fresh id only when every id its records had went to another cluster. That
last property is what makes every change nameable: a record whose id did not come along
either left an id that lives on (split_from) or had its id retired into the one it now has
(merged_into). The greedy order is applied in vectorised rounds: a candidate that comes
first for both its cluster and its id among those left is the one the sequential greedy
would take, so all of them are taken at once; the rounds repeat on what is left.

A fresh id is `cus_` + the first 16 hex digits of the SHA-256 of the cluster's smallest
record key, exactly the id clustering gives today (so the first build, with no previous
mapping, reproduces today's ids and existing syncs keep their keys). If that id was ever
issued (the record named a cluster before) a counter is appended to the key until the id
is new: deterministic, and never a reuse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.identity.clustering import customer_id_for

CUSTOMER_ID_PREFIX = "cus_"

REGISTRY_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        # age order of ids: "ties go to the oldest id" compares these, never timestamps
        ("issue_number", pa.int64()),
        ("issued_build_id", pa.string()),
        ("issued_at", pa.timestamp("us", tz="UTC")),
        ("retired_build_id", pa.string()),
        ("retired_at", pa.timestamp("us", tz="UTC")),
        # where most of its records went when it was retired; NULL when none were left
        ("successor_customer_id", pa.string()),
    ]
)

MAPPING_SCHEMA = pa.schema([("person_record_id", pa.string()), ("customer_id", pa.string())])

# The evidence attached to a change: what kind of reason, a readable detail (a pair, an
# override row, a request id) and the match probability when a score is the reason.
EVIDENCE_SCHEMA = pa.schema(
    [
        ("person_record_id", pa.string()),
        ("evidence_kind", pa.string()),
        ("evidence", pa.string()),
        ("match_probability", pa.float64()),
    ]
)
EVIDENCE_KINDS = (
    "record_new",  # default for created: the record was first seen in this build
    "record_removed",  # default for removed / retired: the record is gone from the sources
    "erasure",  # the record was deleted for an erasure request (evidence: the request id)
    "override",  # a human decision (evidence: the identity_must_link / cannot_link row)
    "pair_score",  # a scored pair (evidence: the pair, match_probability: its score)
    "no_link",  # no pair at or above the threshold holds the record to its old cluster
    "reclustered",  # default for merged_into / split_from when no evidence was supplied
    "restart",  # ids were started over on purpose (next_lineage(restart=True))
)

HISTORY_SCHEMA = pa.schema(
    [
        ("person_record_id", pa.string()),
        ("change", pa.string()),
        ("old_customer_id", pa.string()),
        ("new_customer_id", pa.string()),
        ("build_id", pa.string()),
        ("changed_at", pa.timestamp("us", tz="UTC")),
        ("evidence_kind", pa.string()),
        ("evidence", pa.string()),
        ("match_probability", pa.float64()),
    ]
)
CHANGES = (
    "created",  # the record is new: it gets an id (an existing one or a fresh one)
    "merged_into",  # its old id was retired into the id it now has
    "split_from",  # it left an id that lives on (with the other records)
    "removed",  # the record is gone; its old id lives on or was merged into another
    "retired",  # the record is gone and its old id has no records left: the id is retired
)

# After this many vectorised rounds the few contested candidates left are taken one by one
# (same order, same result): a long chain of contests would otherwise cost a round each.
_MAX_ROUNDS = 16


@dataclass(frozen=True)
class Assignment:
    """One build's ids: mapping (record -> id), registry (every id ever issued, updated),
    registry_changes (its rows issued or retired in this build) and history (this build's
    events)."""

    mapping: pa.Table
    registry: pa.Table
    registry_changes: pa.Table
    history: pa.Table


def empty_registry() -> pa.Table:
    return REGISTRY_SCHEMA.empty_table()


def empty_mapping() -> pa.Table:
    return MAPPING_SCHEMA.empty_table()


# ---------------------------------------------------------------- inputs


def _column(table: pa.Table, name: str, what: str, kind: pa.DataType) -> pa.Array:
    if name not in table.column_names:
        raise ValueError(f"{what} lacks column {name!r} (has: {', '.join(table.column_names)})")
    try:
        return pc.cast(table.column(name), kind).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise ValueError(f"{what}.{name} cannot be read as {kind}: {error}") from error


def _not_null(values: pa.Array, what: str) -> None:
    if values.null_count:
        raise ValueError(f"{what} has {values.null_count} NULL value(s)")


def _utc(moment: dt.datetime, what: str) -> pa.Scalar:
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return pa.scalar(moment.astimezone(dt.UTC), pa.timestamp("us", tz="UTC"))


def _codes(first: pa.Array, second: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of two string arrays from one hashing pass (the costly part at millions
    of keys, so each pair of key sets is hashed once): while `first` has no repeats, its
    values are coded by their position in it, and a value of `second` found in `first` gets
    that position; a value only in `second` gets a code >= len(first); NULL gets -1."""
    both = pa.concat_arrays([first, second])
    indices = pc.fill_null(pc.dictionary_encode(both).indices, -1)  # NULL: -1
    codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes[: len(first)], codes[len(first) :]


def _no_repeats(codes: np.ndarray, values: pa.Array, what: str) -> None:
    """Fail naming a few repeated values when the same code occurs twice."""
    if not codes.size:
        return
    repeated = np.flatnonzero(np.bincount(codes) > 1)
    if repeated.size:
        examples = [int(np.flatnonzero(codes == code)[0]) for code in repeated[:3]]
        raise ValueError(
            f"{what} repeats {repeated.size} value(s), e.g. {values.take(examples).to_pylist()}"
        )


def _positions(codes: np.ndarray, values: pa.Array, what: str) -> None:
    """`codes` of `values` (the first array given to _codes) are their positions unless a
    value repeats."""
    if not np.array_equal(codes, np.arange(codes.size)):
        _no_repeats(codes, values, what)


def _in_key_order(keys: pa.Array, others: list[pa.Array]) -> tuple[pa.Array, list[pa.Array]]:
    """keys sorted, and the other columns in the same order (sorted input stays as is)."""
    if len(keys) > 1 and not pc.all(pc.less_equal(keys[:-1], keys[1:])).as_py():
        order = pc.sort_indices(keys)
        return keys.take(order), [other.take(order) for other in others]
    return keys, others


def _no_adjacent_repeats(keys: pa.Array, what: str) -> None:
    """Fail naming a few repeated values of sorted keys."""
    if len(keys) > 1:
        repeated = pc.equal(keys[:-1], keys[1:])
        if pc.any(repeated).as_py():
            shown = pc.unique(keys[:-1].filter(repeated))
            raise ValueError(f"{what} repeats {len(shown)} value(s), e.g. {shown[:3].to_pylist()}")


def _registry(registry: pa.Table) -> pa.Table:
    columns = {
        field.name: _column(registry, field.name, "registry", field.type)
        for field in REGISTRY_SCHEMA
    }
    table = pa.table(columns, schema=REGISTRY_SCHEMA)
    for name in ("customer_id", "issue_number", "issued_build_id", "issued_at"):
        _not_null(columns[name], f"registry.{name}")
    retired_build, retired_at = columns["retired_build_id"], columns["retired_at"]
    if (
        not pc.equal(pc.is_null(retired_build), pc.is_null(retired_at))
        .to_numpy(zero_copy_only=False)
        .all()
    ):
        raise ValueError("registry has rows with only one of retired_build_id and retired_at")
    if pc.any(
        pc.and_(pc.is_null(retired_build), pc.is_valid(columns["successor_customer_id"]))
    ).as_py():
        raise ValueError("registry has an active id with a successor_customer_id")
    numbers = columns["issue_number"].to_numpy()
    if not (numbers[1:] > numbers[:-1]).all():  # kept in issue order by this module
        ordered = np.sort(numbers)
        if (ordered[1:] == ordered[:-1]).any():
            raise ValueError("registry.issue_number repeats a value")
        table = table.take(np.argsort(numbers, kind="stable"))
    return table


def _evidence(evidence: pa.Table | None) -> pa.Table:
    if evidence is None:
        return EVIDENCE_SCHEMA.empty_table()
    columns = {}
    for field in EVIDENCE_SCHEMA:
        if field.name == "match_probability" and field.name not in evidence.column_names:
            columns[field.name] = pa.nulls(evidence.num_rows, pa.float64())
        else:
            columns[field.name] = _column(evidence, field.name, "evidence", field.type)
    _not_null(columns["person_record_id"], "evidence.person_record_id")
    kinds = columns["evidence_kind"]
    unknown = pc.unique(kinds.filter(pc.invert(pc.is_in(kinds, pa.array(EVIDENCE_KINDS)))))
    if len(unknown) or kinds.null_count:
        shown = unknown.to_pylist() + ([None] if kinds.null_count else [])
        raise ValueError(
            f"evidence.evidence_kind has value(s) {shown} outside {', '.join(EVIDENCE_KINDS)}"
        )
    return pa.table(columns, schema=EVIDENCE_SCHEMA)


# ---------------------------------------------------------------- ids


def fresh_customer_id(smallest_key: str, attempt: int = 0) -> str:
    """The id a new cluster gets: today's id (hash of its smallest record key) on the first
    attempt, then the hash of the key with a counter, until the id was never issued."""
    if attempt == 0:
        return customer_id_for([smallest_key])
    salted = f"{smallest_key}\x1f{attempt}"
    return CUSTOMER_ID_PREFIX + hashlib.sha256(salted.encode()).hexdigest()[:16]


def _fresh_ids(smallest_keys: list[str], issued: pa.Array) -> pa.Array:
    """Fresh ids for these clusters, none equal to an issued id nor to each other."""
    ids = [fresh_customer_id(key) for key in smallest_keys]
    if not ids:
        return pa.array([], pa.string())
    _, codes = _codes(issued, pa.array(ids, pa.string()))
    clash = codes < len(issued)
    if codes.size and np.bincount(codes).max() > 1:  # a 64-bit hash collision: one moves
        seen: set[int] = set()
        for i, code in enumerate(codes.tolist()):
            clash[i] |= code in seen
            seen.add(code)
    if clash.any():
        taken = set(issued.to_pylist()) | set(ids)
        for i in np.flatnonzero(clash).tolist():
            attempt = 1
            while (candidate := fresh_customer_id(smallest_keys[i], attempt)) in taken:
                attempt += 1
            ids[i] = candidate
            taken.add(candidate)
    return pa.array(ids, pa.string())


# ---------------------------------------------------------------- matching


def _greedy_matching(
    pair_cluster: np.ndarray,
    pair_old: np.ndarray,
    overlap: np.ndarray,
    old_age: np.ndarray,
    cluster_rank: np.ndarray,
    n_clusters: int,
    n_old: int,
) -> np.ndarray:
    """Old id index inherited by each cluster (-1: none), by the order in the module doc."""
    order = np.lexsort((cluster_rank[pair_cluster], old_age[pair_old], -overlap))
    cluster, old = pair_cluster[order], pair_old[order]
    rank = np.arange(cluster.size, dtype=np.int64)
    inherited = np.full(n_clusters, -1, dtype=np.int64)
    old_taken = np.zeros(n_old, bool)
    none = np.iinfo(np.int64).max
    best_of_cluster = np.full(n_clusters, none, dtype=np.int64)
    best_of_old = np.full(n_old, none, dtype=np.int64)
    for _ in range(_MAX_ROUNDS):
        if not cluster.size:
            break
        np.minimum.at(best_of_cluster, cluster, rank)
        np.minimum.at(best_of_old, old, rank)
        first = (best_of_cluster[cluster] == rank) & (best_of_old[old] == rank)
        best_of_cluster[cluster] = none
        best_of_old[old] = none
        inherited[cluster[first]] = old[first]
        old_taken[old[first]] = True
        left = (inherited[cluster] < 0) & ~old_taken[old]
        cluster, old, rank = cluster[left], old[left], rank[left]
    for c, o in zip(cluster.tolist(), old.tolist(), strict=True):  # still in greedy order
        if inherited[c] < 0 and not old_taken[o]:
            inherited[c] = o
            old_taken[o] = True
    return inherited


# ---------------------------------------------------------------- assignment


def assign_customer_ids(
    clusters: pa.Table,
    previous: pa.Table,
    registry: pa.Table,
    build_id: str,
    built_at: dt.datetime,
    evidence: pa.Table | None = None,
    complete: bool = True,
) -> Assignment:
    """This build's customer id of every person record, and what changed.

    clusters: person_record_id, cluster_key (any label per cluster, e.g. the clustering's
    customer_id). previous: person_record_id, customer_id of the previous build, complete
    (erased customers included; empty on the first build). registry: every id ever issued
    (REGISTRY_SCHEMA; empty on the first build). evidence: optional EVIDENCE_SCHEMA rows,
    at most one per person record, attached to that record's event (a removed record's too).

    complete=False assigns a part of the graph only (an incremental build re-clusters the
    components its changes touch): clusters and previous then hold the records of those
    components, which must include every record of every previous id they name (whole
    components do); the registry's other ids are left as they are. The returned mapping
    covers the part; registry and registry_changes are whole.
    """
    if not isinstance(build_id, str) or not build_id:
        raise ValueError(f"build_id must be a non-empty string, got {build_id!r}")
    at = _utc(built_at, "built_at")
    record_ids = _column(clusters, "person_record_id", "clusters", pa.string())
    cluster_keys = _column(clusters, "cluster_key", "clusters", pa.string())
    _not_null(record_ids, "clusters.person_record_id")
    _not_null(cluster_keys, "clusters.cluster_key")
    # in key order (the clustering model's output already is): a cluster's first record is
    # then its smallest, which ranks clusters and names fresh ones
    record_ids, (cluster_keys,) = _in_key_order(record_ids, [cluster_keys])
    _no_adjacent_repeats(record_ids, "clusters.person_record_id")
    previous_ids = _column(previous, "person_record_id", "previous mapping", pa.string())
    previous_customers = _column(previous, "customer_id", "previous mapping", pa.string())
    _not_null(previous_ids, "previous mapping.person_record_id")
    _not_null(previous_customers, "previous mapping.customer_id")
    # the previous mapping is this function's output, in key order already
    previous_ids, (previous_customers,) = _in_key_order(previous_ids, [previous_customers])
    _no_adjacent_repeats(previous_ids, "previous mapping.person_record_id")
    registry = _registry(registry)
    evidence = _evidence(evidence)
    n = len(record_ids)

    # this build's records against the previous build's: both in key order, so a binary
    # search finds each previous record's position (cheaper than hashing both key sets)
    previous_code = pc.search_sorted(record_ids, previous_ids).to_numpy().astype(np.int64)
    kept = previous_code < n
    kept[kept] = pc.equal(
        record_ids.take(previous_code[kept]), previous_ids.filter(pa.array(kept))
    ).to_numpy(zero_copy_only=False)
    previous_code[~kept] = n

    # the previous build's ids in the registry, in one hashing pass; ids are indexed by
    # their registry row from here on
    registry_ids = registry.column("customer_id").combine_chunks()
    n_ids = len(registry_ids)
    registry_code, previous_id = _codes(registry_ids, previous_customers)
    _positions(registry_code, registry_ids, "registry.customer_id")
    was_retired = pc.is_valid(registry.column("retired_build_id")).to_numpy(zero_copy_only=False)
    unknown = previous_id >= n_ids
    unknown[~unknown] = was_retired[previous_id[~unknown]]
    if unknown.any():
        shown = pc.unique(previous_customers.filter(pa.array(unknown)))[:3].to_pylist()
        raise ValueError(
            f"previous mapping uses {int(unknown.sum())} record(s) with ids the registry does"
            f" not list as active, e.g. {shown}: pass the registry of the build that made it"
        )
    holders = np.bincount(previous_id, minlength=n_ids)
    orphans = np.flatnonzero(~was_retired & (holders == 0))
    if orphans.size and complete:
        raise ValueError(
            f"registry lists {orphans.size} active id(s) with no record in the previous"
            f" mapping, e.g. {registry_ids.take(orphans[:3]).to_pylist()}: pass the complete"
            " previous mapping (erased customers included)"
        )
    issue_numbers = registry.column("issue_number").to_numpy()
    record_old = np.full(n, -1, np.int64)
    record_old[previous_code[kept]] = previous_id[kept]

    # clusters: a dense index, their first (smallest) record, and their rank in that order
    record_cluster = (
        pc.dictionary_encode(cluster_keys).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    )
    n_clusters = int(record_cluster.max()) + 1 if n else 0
    first_record = np.full(n_clusters, n, np.int64)
    np.minimum.at(first_record, record_cluster, np.arange(n))
    is_first = np.zeros(n, bool)
    is_first[first_record] = True
    cluster_rank = (np.cumsum(is_first) - 1)[first_record]

    # candidates (cluster, old id, records in common), matched
    carried = record_old >= 0
    pair_key, overlap = np.unique(
        record_cluster[carried] * n_ids + record_old[carried], return_counts=True
    )
    pair_cluster, pair_old = np.divmod(pair_key, max(n_ids, 1))
    inherited = _greedy_matching(
        pair_cluster, pair_old, overlap, issue_numbers, cluster_rank, n_clusters, n_ids
    )

    # fresh ids, issued in the order of the clusters' smallest record keys
    fresh = np.flatnonzero(inherited < 0)
    fresh = fresh[np.argsort(cluster_rank[fresh], kind="stable")]
    fresh_ids = _fresh_ids(record_ids.take(first_record[fresh]).to_pylist(), registry_ids)
    next_number = int(issue_numbers.max()) + 1 if n_ids else 1
    fresh_numbers = next_number + np.arange(fresh.size, dtype=np.int64)
    # each cluster's id as a position among the registry's ids followed by the fresh ones
    source = inherited.copy()
    source[fresh] = n_ids + np.arange(fresh.size)
    cluster_customer = pa.concat_arrays([registry_ids, fresh_ids]).take(source)
    cluster_number = np.concatenate([issue_numbers, fresh_numbers])[source]
    record_customer = cluster_customer.take(record_cluster)

    # ids not inherited are retired: into the id that took most of their records (ties: the
    # older id), or with no successor when none of their records is left
    old_inherited = np.zeros(n_ids, bool)
    old_inherited[inherited[inherited >= 0]] = True
    retiring = ~was_retired & ~old_inherited & (holders > 0)  # ids outside a part stay
    losing = retiring[pair_old]
    lost_cluster, lost_old = pair_cluster[losing], pair_old[losing]
    order = np.lexsort((cluster_number[lost_cluster], -overlap[losing], lost_old))
    lost_cluster, lost_old = lost_cluster[order], lost_old[order]
    first_of_old = np.ones(lost_old.size, bool)
    first_of_old[1:] = lost_old[1:] != lost_old[:-1]
    successor_cluster = np.full(n_ids, -1, np.int64)
    successor_cluster[lost_old[first_of_old]] = lost_cluster[first_of_old]

    # events: records that are new or whose id changed, then records that are gone
    moved = carried & (source[record_cluster] != record_old)
    split = moved.copy()
    split[moved] = old_inherited[record_old[moved]]
    change = np.full(n, -1, np.int8)  # positions in CHANGES
    change[~carried] = CHANGES.index("created")
    change[split] = CHANGES.index("split_from")
    change[moved & ~split] = CHANGES.index("merged_into")
    events = np.flatnonzero(change >= 0)
    gone = np.flatnonzero(~kept)
    gone_old = previous_id[gone]
    gone_change = np.where(
        retiring[gone_old] & (successor_cluster[gone_old] < 0),
        CHANGES.index("retired"),
        CHANGES.index("removed"),
    ).astype(np.int8)
    event_old = record_old[events]
    history = _history(
        records=pa.concat_arrays([record_ids.take(events), previous_ids.take(gone)]),
        change=np.concatenate([change[events], gone_change]),
        old=pa.concat_arrays(
            [
                registry_ids.take(pa.array(event_old, mask=event_old < 0)),
                registry_ids.take(gone_old),
            ]
        ),
        new=pa.concat_arrays([record_customer.take(events), pa.nulls(gone.size, pa.string())]),
        build_id=build_id,
        at=at,
        evidence=evidence,
    )

    # registry: retirements in place, fresh ids appended (issue_number order is kept)
    retiring_mask = pa.array(retiring)
    build = pa.scalar(build_id, pa.string())
    successors = cluster_customer.take(pa.array(successor_cluster, mask=successor_cluster < 0))
    updated = pa.table(
        {
            **{name: registry.column(name) for name in REGISTRY_SCHEMA.names[:4]},
            "retired_build_id": pc.if_else(retiring_mask, build, registry["retired_build_id"]),
            "retired_at": pc.if_else(retiring_mask, at, registry["retired_at"]),
            "successor_customer_id": pc.if_else(
                retiring_mask, successors, registry["successor_customer_id"]
            ),
        },
        schema=REGISTRY_SCHEMA,
    )
    issued = pa.table(
        {
            "customer_id": fresh_ids,
            "issue_number": pa.array(fresh_numbers, pa.int64()),
            "issued_build_id": pa.repeat(build, fresh.size),
            "issued_at": pa.repeat(at, fresh.size),
            "retired_build_id": pa.nulls(fresh.size, pa.string()),
            "retired_at": pa.nulls(fresh.size, at.type),
            "successor_customer_id": pa.nulls(fresh.size, pa.string()),
        },
        schema=REGISTRY_SCHEMA,
    )
    changed_rows = np.concatenate(
        [np.flatnonzero(retiring), n_ids + np.arange(fresh.size, dtype=np.int64)]
    )
    updated = pa.concat_tables([updated, issued]).combine_chunks()
    return Assignment(
        mapping=pa.table([record_ids, record_customer], schema=MAPPING_SCHEMA),
        registry=updated,
        registry_changes=updated.take(changed_rows),
        history=history,
    )


def _history(
    *,
    records: pa.Array,
    change: np.ndarray,
    old: pa.Array,
    new: pa.Array,
    build_id: str,
    at: pa.Scalar,
    evidence: pa.Table,
) -> pa.Table:
    """The events as a table, with the caller's evidence or a default per change."""
    evidence_ids = evidence.column("person_record_id").combine_chunks()
    if len(evidence_ids):
        evidence_code, record_code = _codes(evidence_ids, records)
        _positions(evidence_code, evidence_ids, "evidence.person_record_id")
    else:
        record_code = np.zeros(len(records), np.int64)
    found = record_code < len(evidence_ids)
    supplied = evidence.take(pa.array(record_code, mask=~found))
    changes = pa.array(CHANGES, pa.string()).take(change)
    created = change == CHANGES.index("created")
    gone = (change == CHANGES.index("removed")) | (change == CHANGES.index("retired"))
    default_kind = np.where(created, "record_new", np.where(gone, "record_removed", "reclustered"))
    default_detail = pa.array(np.where(gone, "record removed", ""), pa.string())
    table = pa.table(
        {
            "person_record_id": records,
            "change": changes,
            "old_customer_id": old,
            "new_customer_id": new,
            "build_id": pa.repeat(pa.scalar(build_id, pa.string()), len(records)),
            "changed_at": pa.repeat(at, len(records)),
            "evidence_kind": pc.if_else(
                pa.array(found), supplied["evidence_kind"], pa.array(default_kind, pa.string())
            ),
            "evidence": pc.if_else(
                pa.array(found),
                supplied["evidence"],
                pc.if_else(pa.array(gone), default_detail, pa.scalar(None, pa.string())),
            ),
            "match_probability": supplied["match_probability"],
        },
        schema=HISTORY_SCHEMA,
    )
    keys = table.column("person_record_id")
    if len(keys) > 1 and not pc.all(pc.less_equal(keys[:-1], keys[1:])).as_py():
        table = table.sort_by("person_record_id")
    return table


# ---------------------------------------------------------------- aliases


def customer_id_aliases(registry: pa.Table) -> pa.Table:
    """Every id ever issued -> the id that names its customer now.

    An active id maps to itself; a retired id follows its successors (merged_into chains)
    to the active id at their end; an id retired with no records left maps to NULL. A split
    needs nothing: the old id stayed with its larger part, so it is still active.
    """
    registry = _registry(registry)
    ids = registry.column("customer_id").combine_chunks()
    successors = registry.column("successor_customer_id").combine_chunks()
    id_code, successor_code = _codes(ids, successors)
    _positions(id_code, ids, "registry.customer_id")
    n = len(ids)
    is_retired = pc.is_valid(registry.column("retired_build_id")).to_numpy(zero_copy_only=False)
    has_successor = successors.is_valid().to_numpy(zero_copy_only=False)
    dangling = has_successor & (successor_code >= n)
    if dangling.any():
        shown = successors.filter(pa.array(dangling))[:3].to_pylist()
        raise ValueError(f"registry names successor id(s) it never issued, e.g. {shown}")
    # pointer jumping: each id points at its successor, itself when active, -1 when gone
    target = np.arange(n, dtype=np.int64)
    target[has_successor] = successor_code[has_successor]
    target[is_retired & ~has_successor] = -1
    while True:
        live = target >= 0
        jumped = target.copy()
        jumped[live] = target[target[live]]
        if np.array_equal(jumped, target):
            break
        target = jumped
    if is_retired[target[target >= 0]].any():  # a successor chain that never ends
        raise ValueError("registry successors form a cycle")
    current = ids.take(pa.array(target, mask=target < 0))
    return pa.table({"customer_id": ids, "current_customer_id": current})


# ---------------------------------------------------------------- evidence


def evidence_from_clustering(
    clustered: pa.Table,
    must_link: Sequence[tuple[str, str]] = (),
    cannot_link: Sequence[tuple[str, str]] = (),
    erasures: pa.Table | None = None,
) -> pa.Table:
    """Evidence rows for assign_customer_ids from what a build already has.

    clustered: the clustering's output (person_record_id, customer_id as the cluster label,
    cluster_confidence: the strongest accepted pair of the record). erasures: optional
    person_record_id, request_id of records deleted for an erasure request. Per record, the
    first that applies: the erasure request; the override row naming the record; no pair
    (a record alone in its cluster); the score of its strongest accepted pair.
    """
    ids = _column(clustered, "person_record_id", "clustered", pa.string())
    labels = _column(clustered, "customer_id", "clustered", pa.string())
    confidence = _column(clustered, "cluster_confidence", "clustered", pa.float64())
    n = len(ids)
    label_code = pc.dictionary_encode(labels).indices.to_numpy(zero_copy_only=False)
    alone = np.bincount(label_code, minlength=1)[label_code] == 1 if n else np.zeros(0, bool)
    base = pa.table(
        {
            "person_record_id": ids,
            "evidence_kind": pa.array(["pair_score", "no_link"], pa.string()).take(
                alone.astype(np.int8)
            ),
            "evidence": pa.array(
                ["strongest accepted pair of the record", "no pair at or above the threshold"],
                pa.string(),
            ).take(alone.astype(np.int8)),
            "match_probability": pa.array(
                confidence.to_numpy(zero_copy_only=False), pa.float64(), mask=alone
            ),
        },
        schema=EVIDENCE_SCHEMA,
    )

    named: dict[str, tuple[str, str]] = {}
    for seed, rows in (("identity_cannot_link", cannot_link), ("identity_must_link", must_link)):
        for a, b in rows:  # must-link last: it wins when a record is named by both
            named[a] = named[b] = ("override", f"{seed}: {a} ~ {b}")
    if erasures is not None:
        erased = _column(erasures, "person_record_id", "erasures", pa.string()).to_pylist()
        requests = _column(erasures, "request_id", "erasures", pa.string()).to_pylist()
        for record, request in zip(erased, requests, strict=True):
            named[record] = ("erasure", f"erasure request {request}")
    if not named:
        return base
    named_ids = pa.array(list(named), pa.string())
    overridden = pc.is_in(ids, value_set=named_ids)
    rows = pa.table(
        {
            "person_record_id": named_ids,
            "evidence_kind": pa.array([kind for kind, _ in named.values()], pa.string()),
            "evidence": pa.array([text for _, text in named.values()], pa.string()),
            "match_probability": pa.nulls(len(named), pa.float64()),
        },
        schema=EVIDENCE_SCHEMA,
    )
    return pa.concat_tables([base.filter(pc.invert(overridden)), rows]).combine_chunks()


# ---------------------------------------------------------------- lineage (the dbt state)

# The one state table a warehouse keeps across builds (dbt model int_customer_id_lineage,
# appended, never rebuilt): per build that changed anything, its history events
# (row_kind 'event') and the registry rows it issued or retired (row_kind 'registry'),
# numbered by lineage_sequence. One table, so the mapping and the registry are written by one
# insert and cannot diverge. Timestamps are UTC without a zone (the warehouse's convention).
LINEAGE_ROW_KINDS = ("event", "registry")
_EVENT_COLUMNS = [field for field in HISTORY_SCHEMA if field.name not in ("build_id", "changed_at")]
LINEAGE_SCHEMA = pa.schema(
    [
        ("lineage_sequence", pa.int64()),  # 1, 2, ... per build that appended rows
        ("build_id", pa.string()),
        ("built_at", pa.timestamp("us")),
        ("row_kind", pa.string()),
        *_EVENT_COLUMNS,
        *[
            pa.field(field.name, pa.timestamp("us")) if pa.types.is_timestamp(field.type) else field
            for field in REGISTRY_SCHEMA
        ],
    ]
)


def _latest(rows: pa.Table, key: str) -> pa.Table:
    """Each key's row of the highest lineage_sequence."""
    # sorted by the two columns only, and only the kept rows taken: the lineage's rows are
    # wide, and reordering all of them was most of this function's cost (same stable sort)
    order = pc.sort_indices(
        rows.select([key, "lineage_sequence"]),
        sort_keys=[(key, "ascending"), ("lineage_sequence", "descending")],
    )
    keys = rows.column(key).take(order).combine_chunks()
    first = np.ones(len(keys), bool)
    if len(keys) > 1:
        first[1:] = pc.not_equal(keys[1:], keys[:-1]).to_numpy(zero_copy_only=False)
    return rows.take(order.filter(pa.array(first)))


def _lineage(lineage: pa.Table) -> pa.Table:
    columns = {
        field.name: _column(lineage, field.name, "lineage", field.type) for field in LINEAGE_SCHEMA
    }
    for name in ("lineage_sequence", "build_id", "built_at", "row_kind"):
        _not_null(columns[name], f"lineage.{name}")
    kinds = columns["row_kind"]
    if not pc.all(pc.is_in(kinds, pa.array(LINEAGE_ROW_KINDS))).as_py() and len(kinds):
        raise ValueError(f"lineage.row_kind has values outside {', '.join(LINEAGE_ROW_KINDS)}")
    return pa.table(columns, schema=LINEAGE_SCHEMA)


def lineage_state(lineage: pa.Table) -> tuple[pa.Table, pa.Table, int]:
    """The state the lineage's builds left: the mapping (each record's latest event unless
    the record is gone), the registry (each id's latest row) and the next lineage_sequence."""
    lineage = _lineage(lineage)
    kinds = lineage.column("row_kind")
    events = _latest(lineage.filter(pc.equal(kinds, "event")), "person_record_id")
    live = pc.invert(pc.is_in(events.column("change"), pa.array(["removed", "retired"])))
    events = events.filter(live)
    mapping = pa.table(
        [events.column("person_record_id"), events.column("new_customer_id")],
        schema=MAPPING_SCHEMA,
    )
    registry = _latest(lineage.filter(pc.equal(kinds, "registry")), "customer_id")
    registry = pa.table(
        {field.name: pc.cast(registry.column(field.name), field.type) for field in REGISTRY_SCHEMA},
        schema=REGISTRY_SCHEMA,
    )
    sequences = lineage.column("lineage_sequence")
    following = int(pc.max(sequences).as_py()) + 1 if len(sequences) else 1
    return mapping, _registry(registry), following


def _lineage_rows(
    history: pa.Table, registry_changes: pa.Table, sequence: int, build_id: str, at: pa.Scalar
) -> pa.Table:
    naive = pa.timestamp("us")

    def rows(table: pa.Table, kind: str) -> pa.Table:
        n = table.num_rows
        columns = {
            "lineage_sequence": pa.repeat(pa.scalar(sequence, pa.int64()), n),
            "build_id": pa.repeat(pa.scalar(build_id, pa.string()), n),
            "built_at": pa.repeat(pc.cast(at, naive), n),
            "row_kind": pa.repeat(pa.scalar(kind, pa.string()), n),
        }
        for field in LINEAGE_SCHEMA:
            if field.name in columns:
                continue
            if field.name in table.column_names:
                columns[field.name] = pc.cast(table.column(field.name), field.type)
            else:
                columns[field.name] = pa.nulls(n, field.type)
        return pa.table(columns, schema=LINEAGE_SCHEMA)

    return pa.concat_tables(
        [rows(history, "event"), rows(registry_changes, "registry")]
    ).combine_chunks()


def _erasures_of_gone_records(
    previous: pa.Table, record_ids: pa.Array, erased_customers: pa.Table | None
) -> pa.Table | None:
    """person_record_id, request_id of the previous build's records that are gone now and
    whose customer had an erasure request (the smallest request id when several did)."""
    if erased_customers is None or not erased_customers.num_rows:
        return None
    requests = pa.table(
        {
            "customer_id": _column(
                erased_customers, "customer_id", "erased customers", pa.string()
            ),
            "request_id": _column(erased_customers, "request_id", "erased customers", pa.string()),
        }
    )
    requests = requests.group_by("customer_id").aggregate([("request_id", "min")])
    gone = previous.filter(pc.invert(pc.is_in(previous.column("person_record_id"), record_ids)))
    found = gone.join(requests, "customer_id", join_type="inner")
    return pa.table(
        {
            "person_record_id": found.column("person_record_id"),
            "request_id": found.column("request_id_min"),
        }
    )


def next_lineage(
    lineage: pa.Table,
    clustered: pa.Table,
    build_id: str,
    built_at: dt.datetime,
    must_link: Sequence[tuple[str, str]] = (),
    cannot_link: Sequence[tuple[str, str]] = (),
    erased_customers: pa.Table | None = None,
    restart: bool = False,
    reclustered: pa.Array | None = None,
) -> pa.Table:
    """The rows one build appends to the lineage (none when nothing changed).

    lineage: every row appended so far (LINEAGE_SCHEMA; empty on the first build).
    clustered: this build's clustering (person_record_id, customer_id as the cluster label,
    cluster_confidence). must_link / cannot_link: the override rows. erased_customers:
    request_id, customer_id of erasure requests resolved against the previous build's ids;
    a record gone since then whose customer one names has that request as evidence.

    restart=True starts the ids over: no cluster inherits an id, every id still active is
    retired (no successor: its alias leads nowhere) and every record gets a fresh id, with
    'created' events (old_customer_id: the id before) and 'retired' events for records gone,
    evidence 'restart'. Fresh ids still skip every id ever issued, so none is reused.

    reclustered: the records an incremental clustering re-clustered since the lineage's
    last build (whole components; None: all). Only they and the records gone are assigned
    (assign_customer_ids(complete=False)): every other record's cluster, and so its id, is
    as the lineage left it.
    """
    if not isinstance(build_id, str) or not build_id:
        raise ValueError(f"build_id must be a non-empty string, got {build_id!r}")
    _utc(built_at, "built_at")
    previous, registry, sequence = lineage_state(lineage)
    if pc.any(pc.equal(_column(lineage, "build_id", "lineage", pa.string()), build_id)).as_py():
        raise ValueError(f"build {build_id!r} is already in the lineage")
    complete = True
    if reclustered is not None and not restart:
        record_ids = _column(clustered, "person_record_id", "clustered", pa.string())
        part = pc.is_in(record_ids, value_set=pc.cast(reclustered, pa.string()))
        if not pc.all(part).as_py():
            complete = False
            previous_ids = previous.column("person_record_id")
            previous = previous.filter(
                pc.or_(
                    pc.is_in(previous_ids, value_set=record_ids.filter(part)),
                    pc.invert(pc.is_in(previous_ids, value_set=record_ids)),
                )
            )
            clustered = clustered.filter(part)
    return _appended_rows(
        previous,
        registry,
        sequence,
        clustered,
        build_id,
        built_at,
        must_link=must_link,
        cannot_link=cannot_link,
        erased_customers=erased_customers,
        restart=restart,
        complete=complete,
    )


def _appended_rows(
    previous: pa.Table,
    registry: pa.Table,
    sequence: int,
    clustered: pa.Table,
    build_id: str,
    built_at: dt.datetime,
    *,
    must_link: Sequence[tuple[str, str]],
    cannot_link: Sequence[tuple[str, str]],
    erased_customers: pa.Table | None,
    restart: bool,
    complete: bool,
) -> pa.Table:
    """next_lineage once the previous state is known: previous mapping, registry and next
    lineage_sequence (with complete=False: the part's and the gone records' mapping, and a
    registry holding at least every id they name and every id a fresh one could equal)."""
    at = _utc(built_at, "built_at")
    record_ids = _column(clustered, "person_record_id", "clustered", pa.string())
    clusters = pa.table(
        {
            "person_record_id": record_ids,
            "cluster_key": _column(clustered, "customer_id", "clustered", pa.string()),
        }
    )
    if not restart:
        evidence = evidence_from_clustering(
            clustered,
            must_link,
            cannot_link,
            _erasures_of_gone_records(previous, record_ids, erased_customers),
        )
        result = assign_customer_ids(
            clusters, previous, registry, build_id, built_at, evidence, complete=complete
        )
        return _lineage_rows(result.history, result.registry_changes, sequence, build_id, at)

    detail = pa.scalar("customer ids started over (var identity_restart_customer_ids)")
    active = pc.is_null(registry.column("retired_build_id"))
    retired = registry.set_column(
        registry.schema.get_field_index("retired_build_id"),
        "retired_build_id",
        pc.if_else(active, pa.scalar(build_id), registry.column("retired_build_id")),
    )
    retired = retired.set_column(
        retired.schema.get_field_index("retired_at"),
        "retired_at",
        pc.if_else(active, at, registry.column("retired_at")),
    )
    evidence = pa.table(
        {
            "person_record_id": record_ids,
            "evidence_kind": pa.repeat(pa.scalar("restart"), len(record_ids)),
            "evidence": pa.repeat(detail, len(record_ids)),
        }
    )
    result = assign_customer_ids(clusters, empty_mapping(), retired, build_id, built_at, evidence)
    history = result.history
    before = pc.index_in(history.column("person_record_id"), previous.column("person_record_id"))
    history = history.set_column(
        history.schema.get_field_index("old_customer_id"),
        "old_customer_id",
        previous.column("customer_id").take(before),
    )
    gone = previous.filter(pc.invert(pc.is_in(previous.column("person_record_id"), record_ids)))
    n_gone = gone.num_rows
    gone_events = pa.table(
        {
            "person_record_id": gone.column("person_record_id"),
            "change": pa.repeat(pa.scalar("retired"), n_gone),
            "old_customer_id": gone.column("customer_id"),
            "new_customer_id": pa.nulls(n_gone, pa.string()),
            "build_id": pa.repeat(pa.scalar(build_id), n_gone),
            "changed_at": pa.repeat(at, n_gone),
            "evidence_kind": pa.repeat(pa.scalar("restart"), n_gone),
            "evidence": pa.repeat(detail, n_gone),
            "match_probability": pa.nulls(n_gone, pa.float64()),
        },
        schema=HISTORY_SCHEMA,
    )
    registry_changes = pa.concat_tables([retired.filter(active), result.registry_changes])
    return _lineage_rows(
        pa.concat_tables([history, gone_events]), registry_changes, sequence, build_id, at
    )


# The clustering's columns next_lineage reads (clustered_in_build, the build that clustered
# a record last, is read in SQL only: it picks the records to assign).
_CLUSTERED_COLUMNS = "person_record_id, customer_id, cluster_confidence"


def _arrow(session, sql: str, params: list | None = None) -> pa.Table:
    return session.sql(sql, params=params).arrow().read_all()


def _fresh_id_candidates(session, lineage: str, keys: list[str]) -> pa.Array:
    """The registered ids a fresh id named by one of these record keys could be: per key its
    fresh ids attempt by attempt (fresh_customer_id) until two were never issued, the first
    free one and the next, which a collision between two fresh ids of one build moves to."""
    found: list[str] = []
    pending = [(key, 0, 0) for key in keys]  # key, attempt, free attempts seen
    while pending:
        candidates = [fresh_customer_id(key, attempt) for key, attempt, _ in pending]
        session.register("c360_fresh_candidates", pa.table({"customer_id": candidates}))
        try:
            issued = {
                customer_id
                for (customer_id,) in session.execute(
                    f"select distinct customer_id from {lineage} where row_kind = 'registry'"
                    " and customer_id in (select customer_id from c360_fresh_candidates)"
                ).fetchall()
            }
        finally:
            session.unregister("c360_fresh_candidates")
        found.extend(sorted(issued))
        following = []
        for (key, attempt, free), candidate in zip(pending, candidates, strict=True):
            free += candidate not in issued
            if free < 2:
                following.append((key, attempt + 1, free))
        pending = following
    return pa.array(found, pa.string())


def _smallest_keys(clustered: pa.Table) -> list[str]:
    """Each cluster's smallest record key (the one a fresh id of the cluster is named by)."""
    table = pa.table(
        {
            "key": _column(clustered, "person_record_id", "clustered", pa.string()),
            "label": _column(clustered, "customer_id", "clustered", pa.string()),
        }
    )
    return table.group_by("label").aggregate([("key", "min")]).column("key_min").to_pylist()


def next_lineage_in_warehouse(
    session,
    lineage: str | None,
    clustered: str,
    build_id: str,
    built_at: dt.datetime,
    must_link: Sequence[tuple[str, str]] = (),
    cannot_link: Sequence[tuple[str, str]] = (),
    erased_customers: pa.Table | None = None,
    restart: bool = False,
) -> tuple[pa.Table, dict[str, int | str]]:
    """next_lineage over tables of a DuckDB connection, reading only what the build needs,
    and what it read for the log (path, records assigned; when incremental, of how many,
    and the previous records and registry rows read).

    lineage: the lineage table (None before the first build); clustered: the clustering's
    table (person_record_id, customer_id, cluster_confidence, clustered_in_build). The
    records clustered by a build the lineage does not know (an incremental clustering's
    re-clustered components, whole) are assigned, with the previous mapping of those
    records and of the records gone (each one's latest event, found in SQL) and the
    registry rows of the ids they name, of the highest issue number and of every id a
    fresh id of theirs could equal: assign_customer_ids(complete=False) reads nothing else,
    so the rows equal next_lineage over everything (tested). When every record is to be
    assigned (first build, full clustering) or on a restart, everything is read and
    next_lineage runs on it.
    """
    if not isinstance(build_id, str) or not build_id:
        raise ValueError(f"build_id must be a non-empty string, got {build_id!r}")
    _utc(built_at, "built_at")
    options = dict(
        must_link=must_link,
        cannot_link=cannot_link,
        erased_customers=erased_customers,
        restart=restart,
    )
    everything = f"select {_CLUSTERED_COLUMNS} from {clustered} order by person_record_id"
    if lineage is None:
        records = _arrow(session, everything)
        rows = next_lineage(LINEAGE_SCHEMA.empty_table(), records, build_id, built_at, **options)
        return rows, {"path": "full", "assigned": records.num_rows}
    found = session.execute(f"select count(*) from {lineage} where build_id = ?", [build_id])
    if found.fetchall()[0][0]:
        raise ValueError(f"build {build_id!r} is already in the lineage")
    # a build the lineage does not know clustered them: re-clustered since its last build
    # (a build that stopped before the lineage leaves its re-clustered records unseen too)
    unseen = (
        f"(clustered_in_build is null or clustered_in_build not in (select distinct build_id"
        f" from {lineage} where build_id is not null))"
    )
    total, part = session.execute(
        f"select count(*), count(*) filter (where {unseen}) from {clustered}"
    ).fetchall()[0]
    if restart or part == total:
        rows = next_lineage(
            _arrow(session, f"select * from {lineage}"),
            _arrow(session, everything),
            build_id,
            built_at,
            **options,
        )
        return rows, {"path": "full", "assigned": total}

    session.execute(
        f"create or replace temp table c360_lineage_part as select {_CLUSTERED_COLUMNS}"
        f" from {clustered} where {unseen}"
    )
    try:
        records = _arrow(session, "select * from c360_lineage_part order by person_record_id")
        # every event of the part's records and of the records gone since the lineage's
        # last build (lineage_state takes each one's latest, as over the whole lineage)
        events = _arrow(
            session,
            f"select * from {lineage} where row_kind = 'event' and person_record_id in ("
            " select person_record_id from c360_lineage_part"
            f" union all select person_record_id from {lineage} where row_kind = 'event'"
            f" and person_record_id not in (select person_record_id from {clustered}))",
        )
        previous, _, _ = lineage_state(events)
        # the registry rows assign_customer_ids(complete=False) reads: the ids of the previous
        # records, the highest issue number (the next one follows it) and every registered id
        # a fresh id of the part's records could be
        wanted = pa.concat_arrays(
            [
                previous.column("customer_id").combine_chunks(),
                _fresh_id_candidates(session, lineage, _smallest_keys(records)),
            ]
        )
        session.register("c360_wanted_ids", pa.table({"customer_id": wanted}))
        try:
            registry_rows = _arrow(
                session,
                f"select * from {lineage} where row_kind = 'registry' and customer_id in ("
                " select customer_id from c360_wanted_ids"
                f" union all (select customer_id from {lineage} where row_kind = 'registry'"
                " order by issue_number desc limit 1))",
            )
        finally:
            session.unregister("c360_wanted_ids")
    finally:
        session.execute("drop table if exists c360_lineage_part")
    _, registry, _ = lineage_state(registry_rows)
    last = session.execute(f"select max(lineage_sequence) from {lineage}").fetchall()[0][0]
    rows = _appended_rows(
        previous,
        registry,
        int(last) + 1 if last is not None else 1,
        records,
        build_id,
        built_at,
        complete=False,
        **options,
    )
    return rows, {
        "path": "incremental",
        "assigned": part,
        "records": total,
        "previous": previous.num_rows,
        "registry": registry.num_rows,
    }


def aliases_from_lineage(lineage: pa.Table) -> pa.Table:
    """customer_id_aliases of the lineage's registry, with each id's registry columns:
    every id ever issued, its current id (NULL when it leads to no customer), when and by
    which build it was issued and retired (timestamps UTC without a zone, as stored)."""
    _, registry, _ = lineage_state(lineage)
    aliases = customer_id_aliases(registry)
    return pa.table(
        {
            "customer_id": aliases.column("customer_id"),
            "current_customer_id": aliases.column("current_customer_id"),
            **{
                field.name: pc.cast(
                    registry.column(field.name), LINEAGE_SCHEMA.field(field.name).type
                )
                for field in REGISTRY_SCHEMA
                if field.name != "customer_id"
            },
        }
    )
