"""Guarded clustering: pairs become customers without merging people who cannot be one.

Plain connected components at a threshold lets one wrong edge (a shared family email, a
twin's phone) chain two people, and then their households, into one customer. Here edges
are applied strongest first, and an edge is refused when the merge would put into one
customer records that cannot belong to one person:
- two different dates of birth;
- first names that are neither the same canonical name (Bob ~ Robert) nor spelling
  variants of each other (the household members who share email, phone and address);
- a human cannot-link decision (seed identity_cannot_link), even through a chain;
- more records than `max_cluster_size`.
Refusing the weakest edge that would create a conflict is what "splitting a cluster at
its weakest links" means here. Must-link decisions are applied first and unconditionally.
"""

from __future__ import annotations

import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Two first names of one person spelled differently (Jenifer ~ Jennifer: 0.97) are at
# least this Jaro-Winkler-similar, the level Splink's first-name comparison uses;
# different people's names (Mark ~ Mary: 0.88) are below it.
NAME_SIMILARITY = 0.92


@lru_cache(maxsize=1 << 18)  # first names repeat: the same pairs come back many times
def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters)."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(len(a), len(b)) // 2 - 1
    matched_b = [False] * len(b)
    matches_a = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not matched_b[j] and b[j] == char:
                matched_b[j] = True
                matches_a.append(char)
                break
    if not matches_a:
        return 0.0
    matches_b = [b[j] for j, hit in enumerate(matched_b) if hit]
    transpositions = sum(x != y for x, y in zip(matches_a, matches_b, strict=True)) / 2
    m = len(matches_a)
    jaro = (m / len(a) + m / len(b) + (m - transpositions) / m) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def names_compatible(left: set[str], right: set[str]) -> bool:
    """Every first name of one side could be the same person's as every name of the other."""
    return all(a == b or jaro_winkler(a, b) >= NAME_SIMILARITY for a in left for b in right)


@dataclass(slots=True)
class Cluster:
    members: list[str]
    birth_dates: set = field(default_factory=set)
    first_names: set[str] = field(default_factory=set)
    cannot_link: set[str] = field(default_factory=set)


@dataclass
class Decisions:
    """What clustering did, for the quality report."""

    accepted: int = 0
    refused_birth_date: int = 0
    refused_first_name: int = 0
    refused_cannot_link: int = 0
    refused_size: int = 0


class GuardedClusters:
    """Union-find whose unions check the guards above."""

    def __init__(
        self, records: pa.Table, cannot_link: list[tuple[str, str]], max_cluster_size: int
    ) -> None:
        self.parent: dict[str, str] = {}
        self.clusters: dict[str, Cluster] = {}
        self.max_cluster_size = max_cluster_size
        self.decisions = Decisions()
        ids = records.column("person_record_id").to_pylist()
        names = records.column("first_name_canonical").to_pylist()
        births = records.column("birth_date").to_pylist()
        for record_id, name, birth in zip(ids, names, births, strict=True):
            self.parent[record_id] = record_id
            self.clusters[record_id] = Cluster(
                members=[record_id],
                birth_dates={birth} if birth is not None else set(),
                first_names={name} if name else set(),
            )
        for a, b in cannot_link:
            if a in self.clusters and b in self.clusters:
                self.clusters[a].cannot_link.add(b)
                self.clusters[b].cannot_link.add(a)

    def find(self, record_id: str) -> str:
        root = record_id
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[record_id] != root:  # path compression
            self.parent[record_id], record_id = root, self.parent[record_id]
        return root

    def refusal(self, a: Cluster, b: Cluster) -> str | None:
        """Why a and b must stay apart, or None."""
        if (a.cannot_link and not a.cannot_link.isdisjoint(b.members)) or (
            b.cannot_link and not b.cannot_link.isdisjoint(a.members)
        ):
            return "cannot_link"
        if len(a.birth_dates | b.birth_dates) > 1:
            return "birth_date"
        if not names_compatible(a.first_names, b.first_names):
            return "first_name"
        if len(a.members) + len(b.members) > self.max_cluster_size:
            return "size"
        return None

    def union(self, left: str, right: str, guarded: bool = True) -> bool:
        root_l, root_r = self.find(left), self.find(right)
        if root_l == root_r:
            return True
        a, b = self.clusters[root_l], self.clusters[root_r]
        if guarded:
            reason = self.refusal(a, b)
            if reason:
                setattr(
                    self.decisions,
                    f"refused_{reason}",
                    getattr(self.decisions, f"refused_{reason}") + 1,
                )
                return False
        if len(a.members) < len(b.members):  # keep the larger cluster's root
            root_l, root_r, a, b = root_r, root_l, b, a
        self.parent[root_r] = root_l
        a.members.extend(b.members)
        a.birth_dates |= b.birth_dates
        a.first_names |= b.first_names
        a.cannot_link |= b.cannot_link
        del self.clusters[root_r]
        self.decisions.accepted += 1
        return True


def customer_id_for(members: list[str]) -> str:
    """Stable id: a hash of the cluster's smallest record key (survives unrelated changes)."""
    return _customer_id_of_key(min(members))


def _customer_id_of_key(smallest_key: str) -> str:
    return "cus_" + hashlib.sha256(smallest_key.encode()).hexdigest()[:16]


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label (its smallest member's index) of each of n nodes joined by edges.

    Vectorised union-find: hook every edge's two roots onto the smaller one, then jump
    pointers until each node points at its root; repeat until no edge spans two roots.
    """
    label = np.arange(n, dtype=np.int64)
    while left.size:
        low = np.minimum(label[left], label[right])
        np.minimum.at(label, label[left], low)
        np.minimum.at(label, label[right], low)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label[left], label[right]):
            break
    return label


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


def _components_needing_guards(
    component: np.ndarray,
    records: pa.Table,
    max_cluster_size: int,
    flagged: np.ndarray,
) -> np.ndarray:
    """Boolean per component label: could any merge inside it be refused?

    A component whose records hold at most one birth date, only mutually compatible first
    names, no cannot-link or must-link record and no more than max_cluster_size records
    passes every guard on every merge, so its guarded result is its connected component.
    """
    n = component.size
    size = np.bincount(component, minlength=n)
    needs = size > max_cluster_size
    needs[component[flagged]] = True
    multi = size[component] > 1  # singletons never merge

    births = records.column("birth_date")
    birth_valid = multi & ~np.asarray(pc.is_null(births).to_numpy(zero_copy_only=False), bool)
    if birth_valid.any():
        days = pc.cast(births, pa.int32()).to_numpy(zero_copy_only=False)
        keys = _sorted_unique(
            (component[birth_valid].astype(np.int64) << 32)
            + (days[birth_valid].astype(np.int64) + (1 << 31))  # days before 1970 are negative
        )
        counts = np.bincount(keys >> 32, minlength=n)
        needs |= counts > 1

    first_names = records.column("first_name_canonical").combine_chunks()
    names = pc.if_else(pc.equal(first_names, ""), pa.scalar(None, pa.string()), first_names)
    encoded = pc.dictionary_encode(names)
    name_index = encoded.indices.to_numpy(zero_copy_only=False)
    name_valid = multi & ~np.asarray(pc.is_null(encoded.indices).to_numpy(zero_copy_only=False))
    if name_valid.any():
        keys = _sorted_unique(
            (component[name_valid].astype(np.int64) << 32) + name_index[name_valid].astype(np.int64)
        )
        owners = keys >> 32
        several = np.flatnonzero(np.bincount(owners, minlength=n) > 1)
        several = several[~needs[several]]
        if several.size:
            vocabulary = encoded.dictionary.to_pylist()
            starts = np.searchsorted(owners, several)
            ends = np.searchsorted(owners, several, side="right")
            for label, start, end in zip(several, starts, ends, strict=True):
                group = {vocabulary[i] for i in (keys[start:end] & 0xFFFFFFFF)}
                if not names_compatible(group, group):
                    needs[label] = True
    return needs


def _apply_edges(
    clusters: GuardedClusters, edges: pa.Table, guarded: bool, confidence: dict[str, float]
) -> None:
    """Edges strongest first (ties by record keys, so any input order gives one result)."""
    ordered = edges.sort_by(
        [
            ("match_probability", "descending"),
            ("person_record_id_l", "ascending"),
            ("person_record_id_r", "ascending"),
        ]
    )
    for probability, left, right in zip(
        ordered.column("match_probability").to_pylist(),
        ordered.column("person_record_id_l").to_pylist(),
        ordered.column("person_record_id_r").to_pylist(),
        strict=True,
    ):
        if clusters.union(left, right, guarded=guarded):
            for record_id in (left, right):
                confidence[record_id] = max(confidence.get(record_id, 0.0), probability)


@contextmanager
def _no_cyclic_gc():
    """Python's cyclic garbage collector paused: the guarded pass creates a few objects per
    record (clusters, their sets and lists) and nothing here makes a reference cycle, yet
    the collector kept rescanning them all: setting up 340,000 guarded records took 4.3 s
    with it and 1.4 s without (1,000,000 persons, BENCHMARKS.md, fifth pass). Memory is
    still freed as soon as it is unreferenced."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_no_cyclic_gc()
def cluster_records(
    records: pa.Table,
    pairs: pa.Table,
    threshold: float,
    max_cluster_size: int = 50,
    must_link: list[tuple[str, str]] = (),
    cannot_link: list[tuple[str, str]] = (),
    guarded: bool = True,
    split_components: bool = True,
) -> tuple[pa.Table, Decisions]:
    """customer_id and confidence for every record, and counts of the guard decisions.

    pairs: person_record_id_l, person_record_id_r, match_probability (deterministic
    edges carry probability 1). guarded=False is plain connected components at the
    threshold, kept to measure what the guards are worth.

    Edges at or above the threshold first form connected components (vectorised). Only
    components where some guard could refuse a merge go through the edge-by-edge guarded
    union-find; the others are their connected component, which is exactly what the
    guarded pass would give them, at a fraction of the cost. split_components=False sends
    every record through the guarded pass (the reference the fast path is tested against).
    """
    # records in key order: a record's position is its rank, which the customer id needs
    # (the smallest key of its cluster), and the result comes out sorted without a second
    # sort. Already sorted input (the dbt model asks DuckDB for it) is not sorted again.
    ids = records.column("person_record_id").combine_chunks()
    if len(ids) > 1 and not pc.all(pc.less_equal(ids[:-1], ids[1:])).as_py():
        records = records.take(pc.sort_indices(ids))
        ids = records.column("person_record_id").combine_chunks()
    n = len(ids)
    probability = pc.cast(pairs.column("match_probability"), pa.float64())
    strong = pa.table(
        {
            "person_record_id_l": pairs.column("person_record_id_l"),
            "person_record_id_r": pairs.column("person_record_id_r"),
            "match_probability": probability,
        }
    ).filter(pc.greater_equal(probability, threshold))
    # both ends looked up in one pass: index_in builds its hash table of ids per call
    ends = pc.index_in(
        pa.chunked_array(
            strong.column("person_record_id_l").chunks + strong.column("person_record_id_r").chunks,
            strong.schema.field("person_record_id_l").type,
        ),
        value_set=ids,
    ).combine_chunks()
    left, right = ends[: strong.num_rows], ends[strong.num_rows :]
    # an edge to a record that is not a person record (an orphan id) is ignored
    known = pc.and_(pc.is_valid(left), pc.is_valid(right))
    strong = strong.filter(known)
    left = left.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)
    right = right.filter(known).to_numpy(zero_copy_only=False).astype(np.int64)

    known_ids = set(ids.to_pylist()) if (must_link or cannot_link) else set()
    must = [(a, b) for a, b in must_link if a in known_ids and b in known_ids]
    cannot = [(a, b) for a, b in cannot_link if a in known_ids and b in known_ids]
    position = {}
    if must or cannot:
        wanted = {r for pair in must + cannot for r in pair}
        position = {r: i for i, r in enumerate(ids.to_pylist()) if r in wanted}
    must_left = np.array([position[a] for a, _ in must], np.int64)
    must_right = np.array([position[b] for _, b in must], np.int64)

    component = connected_components(
        n, np.concatenate([left, must_left]), np.concatenate([right, must_right])
    )
    if not split_components:
        needs = np.ones(n, bool)
    elif guarded:
        flagged = np.zeros(n, bool)
        flagged[must_left] = flagged[must_right] = True
        flagged[[position[r] for pair in cannot for r in pair]] = True
        needs = _components_needing_guards(component, records, max_cluster_size, flagged)
    else:
        needs = np.zeros(n, bool)
    slow = needs[component]

    # fast path: connected components, confidence = strongest edge a record takes part in
    fast_components = np.count_nonzero(np.bincount(component[~slow], minlength=n))
    decisions = Decisions(accepted=int(np.count_nonzero(~slow) - fast_components))
    confidence = np.full(n, -np.inf)
    edge_probability = strong.column("match_probability").to_numpy()
    np.maximum.at(confidence, left, edge_probability)
    np.maximum.at(confidence, right, edge_probability)
    confidence[np.isneginf(confidence)] = 1.0  # a singleton is certainly its own customer
    # customer id: hash of each component's smallest record key; records are in key order,
    # so that is the component's label (connected_components labels by smallest index)
    labels = np.flatnonzero(np.bincount(component, minlength=n))
    smallest = ids.take(pa.array(labels)).to_pylist()
    customer_of = np.empty(n, dtype=object)
    customer_of[labels] = [_customer_id_of_key(record_id) for record_id in smallest]
    customer = customer_of[component]

    # guarded path: edge by edge, only where a guard may refuse
    slow_index = np.flatnonzero(slow)
    if slow_index.size:
        subset = records.take(pa.array(slow_index))
        clusters = GuardedClusters(subset, cannot, max_cluster_size)
        for a, b in must:
            clusters.union(a, b, guarded=False)
        guarded_confidence: dict[str, float] = {}
        edge_slow = slow[left]
        _apply_edges(clusters, strong.filter(pa.array(edge_slow)), guarded, guarded_confidence)
        local = {
            record_id: i
            for i, record_id in enumerate(subset.column("person_record_id").to_pylist())
        }
        for cluster in clusters.clusters.values():
            customer_id = customer_id_for(cluster.members)
            for record_id in cluster.members:
                i = slow_index[local[record_id]]
                customer[i] = customer_id
                # a must-link member merged without a scored edge is certain too
                confidence[i] = guarded_confidence.get(record_id, 1.0)
        slow_decisions = clusters.decisions
        decisions.accepted += slow_decisions.accepted
        decisions.refused_birth_date = slow_decisions.refused_birth_date
        decisions.refused_first_name = slow_decisions.refused_first_name
        decisions.refused_cannot_link = slow_decisions.refused_cannot_link
        decisions.refused_size = slow_decisions.refused_size

    table = pa.table(
        {
            "person_record_id": ids,
            "customer_id": pa.array(customer.tolist(), pa.string()),
            "cluster_confidence": pa.array(confidence, pa.float64()),
        }
    )
    return table, decisions
