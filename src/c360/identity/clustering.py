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

import hashlib
from dataclasses import dataclass, field

import pyarrow as pa

# Two first names of one person spelled differently (Jenifer ~ Jennifer: 0.97) are at
# least this Jaro-Winkler-similar, the level Splink's first-name comparison uses;
# different people's names (Mark ~ Mary: 0.88) are below it.
NAME_SIMILARITY = 0.92


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


@dataclass
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
        if a.cannot_link & set(b.members) or b.cannot_link & set(a.members):
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
    return "cus_" + hashlib.sha256(min(members).encode()).hexdigest()[:16]


def cluster_records(
    records: pa.Table,
    pairs: pa.Table,
    threshold: float,
    max_cluster_size: int = 50,
    must_link: list[tuple[str, str]] = (),
    cannot_link: list[tuple[str, str]] = (),
    guarded: bool = True,
) -> tuple[pa.Table, Decisions]:
    """customer_id and confidence for every record, and counts of the guard decisions.

    pairs: person_record_id_l, person_record_id_r, match_probability (deterministic
    edges carry probability 1). guarded=False is plain connected components at the
    threshold, kept to measure what the guards are worth.
    """
    clusters = GuardedClusters(records, list(cannot_link), max_cluster_size)
    for left, right in must_link:
        if left in clusters.parent and right in clusters.parent:
            clusters.union(left, right, guarded=False)
    confidence: dict[str, float] = {}
    edges = sorted(
        zip(
            pairs.column("match_probability").to_pylist(),
            pairs.column("person_record_id_l").to_pylist(),
            pairs.column("person_record_id_r").to_pylist(),
            strict=True,
        ),
        key=lambda edge: (-edge[0], edge[1], edge[2]),  # strongest first, ties stable
    )
    for probability, left, right in edges:
        if probability < threshold:
            break
        if left not in clusters.parent or right not in clusters.parent:
            continue  # an edge to a record that is not a person record (an orphan id)
        if clusters.union(left, right, guarded=guarded):
            for record_id in (left, right):
                confidence[record_id] = max(confidence.get(record_id, 0.0), probability)
    record_ids, customer_ids, confidences = [], [], []
    for cluster in clusters.clusters.values():
        customer = customer_id_for(cluster.members)
        for record_id in cluster.members:
            record_ids.append(record_id)
            customer_ids.append(customer)
            # a singleton is certainly its own customer; a must-link member too
            confidences.append(confidence.get(record_id, 1.0))
    table = pa.table(
        {
            "person_record_id": pa.array(record_ids, pa.string()),
            "customer_id": pa.array(customer_ids, pa.string()),
            "cluster_confidence": pa.array(confidences, pa.float64()),
        }
    )
    return table.sort_by("person_record_id"), clusters.decisions
