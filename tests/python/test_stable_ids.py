"""Stable customer ids across builds: inheritance rules, history events, registry, aliases."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

import duckdb
import pyarrow as pa
import pytest

import c360.identity.stable_ids as stable_ids
from c360.identity.clustering import cluster_records, customer_id_for
from c360.identity.stable_ids import (
    CHANGES,
    EVIDENCE_KINDS,
    LINEAGE_SCHEMA,
    Assignment,
    aliases_from_lineage,
    assign_customer_ids,
    customer_id_aliases,
    empty_mapping,
    empty_registry,
    evidence_from_clustering,
    fresh_customer_id,
    lineage_state,
    next_lineage,
    next_lineage_in_warehouse,
)

T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
D1, D2 = dt.date(1990, 2, 13), dt.date(1985, 7, 4)
ID_FORMAT = re.compile(r"^cus_[0-9a-f]{16}$")


def clusters(groups: list[list[str]] | dict[str, str]) -> pa.Table:
    """person_record_id, cluster_key from groups of records (labels are arbitrary)."""
    if isinstance(groups, dict):
        pairs = sorted(groups.items())
    else:
        pairs = sorted((r, f"label{i}") for i, group in enumerate(groups) for r in group)
    return pa.table(
        {
            "person_record_id": pa.array([r for r, _ in pairs], pa.string()),
            "cluster_key": pa.array([k for _, k in pairs], pa.string()),
        }
    )


class Builds:
    """Runs builds one after the other, carrying mapping and registry like the dbt graph."""

    def __init__(self) -> None:
        self.mapping = empty_mapping()
        self.registry = empty_registry()
        self.number = 0
        self.last: Assignment | None = None

    def run(self, groups, evidence: pa.Table | None = None) -> Assignment:
        self.number += 1
        table = groups if isinstance(groups, pa.Table) else clusters(groups)
        result = assign_customer_ids(
            table,
            self.mapping,
            self.registry,
            build_id=f"b{self.number}",
            built_at=T0 + dt.timedelta(days=self.number),
            evidence=evidence,
        )
        check_invariants(self.mapping, self.registry, result)
        self.mapping, self.registry, self.last = result.mapping, result.registry, result
        return result

    def ids(self) -> dict[str, str]:
        return as_dict(self.mapping)

    def id_of(self, record: str) -> str:
        return self.ids()[record]


def as_dict(mapping: pa.Table) -> dict[str, str]:
    return dict(
        zip(
            mapping["person_record_id"].to_pylist(), mapping["customer_id"].to_pylist(), strict=True
        )
    )


def events(result: Assignment) -> dict[str, tuple[str, str | None, str | None]]:
    return {
        row["person_record_id"]: (row["change"], row["old_customer_id"], row["new_customer_id"])
        for row in result.history.to_pylist()
    }


def replay(previous: dict[str, str], history: pa.Table) -> dict[str, str]:
    """The mapping the history says the build made from the previous one."""
    mapping = dict(previous)
    for row in history.to_pylist():
        if row["change"] in ("removed", "retired"):
            del mapping[row["person_record_id"]]
        else:
            mapping[row["person_record_id"]] = row["new_customer_id"]
    return mapping


def check_invariants(previous: pa.Table, registry: pa.Table, result: Assignment) -> None:
    """What every build must hold, whatever the clusters."""
    mapping, new_registry = as_dict(result.mapping), result.registry.to_pylist()
    rows = {row["customer_id"]: row for row in new_registry}
    assert len(rows) == len(new_registry)  # an id is issued once
    assert all(ID_FORMAT.match(customer) for customer in rows)
    # the history is complete: replaying it on the previous mapping gives the new one
    assert replay(as_dict(previous), result.history) == mapping
    assert set(result.history["change"].to_pylist()) <= set(CHANGES)
    assert set(result.history["evidence_kind"].to_pylist()) <= set(EVIDENCE_KINDS)
    # the registry's active ids are exactly the ids in use; none comes back from retirement
    active = {c for c, row in rows.items() if row["retired_build_id"] is None}
    assert active == set(mapping.values())
    before = {row["customer_id"]: row for row in registry.to_pylist()}
    for customer, row in before.items():
        assert rows[customer]["issue_number"] == row["issue_number"]
        if row["retired_build_id"] is not None:
            assert rows[customer] == row
    # ids that disappeared are retired with their successor (or none: no records left)
    for customer in set(as_dict(previous).values()) - set(mapping.values()):
        successor = rows[customer]["successor_customer_id"]
        assert rows[customer]["retired_build_id"] is not None
        assert successor is None or successor in active
    # registry_changes is exactly the rows issued or retired by this build
    changed = {row["customer_id"] for row in result.registry_changes.to_pylist()}
    assert changed == {c for c, row in rows.items() if before.get(c) != row}
    # one cluster, one id
    cluster_of = dict(
        zip(
            result.mapping["person_record_id"].to_pylist(),
            result.mapping["customer_id"].to_pylist(),
            strict=True,
        )
    )
    assert cluster_of == mapping


def reference_inheritance(
    previous: dict[str, str], groups: list[list[str]], age: dict[str, int]
) -> dict[int, str | None]:
    """The rules, one candidate at a time: the old id each group inherits (None: fresh)."""
    overlap: Counter = Counter()
    for i, group in enumerate(groups):
        for record in group:
            if record in previous:
                overlap[(i, previous[record])] += 1
    order = sorted(overlap, key=lambda pair: (-overlap[pair], age[pair[1]], min(groups[pair[0]])))
    inherited: dict[int, str | None] = dict.fromkeys(range(len(groups)))
    used: set[str] = set()
    for group, old in order:
        if inherited[group] is None and old not in used:
            inherited[group] = old
            used.add(old)
    return inherited


# ---------------------------------------------------------------- the first build


def records(*rows: tuple) -> pa.Table:
    ids, names, births = zip(*rows, strict=True)
    return pa.table(
        {
            "person_record_id": pa.array(ids, pa.string()),
            "first_name_canonical": pa.array(names, pa.string()),
            "birth_date": pa.array(births, pa.date32()),
        }
    )


def scored(*edges: tuple[str, str, float]) -> pa.Table:
    left, right, probability = zip(*edges, strict=True) if edges else ((), (), ())
    return pa.table(
        {
            "person_record_id_l": pa.array(left, pa.string()),
            "person_record_id_r": pa.array(right, pa.string()),
            "match_probability": pa.array(probability, pa.float64()),
        }
    )


def as_clusters(clustered: pa.Table) -> pa.Table:
    return clustered.select(["person_record_id", "customer_id"]).rename_columns(
        ["person_record_id", "cluster_key"]
    )


HOUSEHOLD = records(
    ("crm:1", "ann", D1),
    ("shop:7", "ann", D1),
    ("loyalty:3", "ann", None),
    ("crm:2", "bob", D2),
    ("support:9", "bob", None),
    ("crm:5", "cy", None),
)
HOUSEHOLD_PAIRS = scored(
    ("crm:1", "shop:7", 0.99), ("shop:7", "loyalty:3", 0.93), ("crm:2", "support:9", 0.97)
)


def test_first_build_gives_todays_ids_and_creates_every_record() -> None:
    clustered, _ = cluster_records(HOUSEHOLD, HOUSEHOLD_PAIRS, 0.7)
    builds = Builds()
    result = builds.run(as_clusters(clustered))
    assert result.mapping.equals(
        clustered.select(["person_record_id", "customer_id"]).cast(result.mapping.schema)
    )
    assert builds.id_of("shop:7") == customer_id_for(["crm:1", "shop:7", "loyalty:3"])
    assert {change for change, _, _ in events(result).values()} == {"created"}
    assert result.history.num_rows == HOUSEHOLD.num_rows
    # issued in build b1, numbered in the order of the clusters' smallest keys
    registry = result.registry.to_pylist()
    assert [row["customer_id"] for row in registry] == [
        customer_id_for(["crm:1"]),
        customer_id_for(["crm:2"]),
        customer_id_for(["crm:5"]),
    ]
    assert [row["issue_number"] for row in registry] == [1, 2, 3]
    assert {row["issued_build_id"] for row in registry} == {"b1"}
    assert result.registry_changes.equals(result.registry)


def test_a_rebuild_of_the_same_clusters_keeps_every_id_and_records_nothing() -> None:
    builds = Builds()
    first = builds.run([["a", "b", "c"], ["d"], ["e", "f"]])
    # the labels a rebuild gives its clusters do not matter, only their members
    again = builds.run({"a": "z", "b": "z", "c": "z", "d": "y", "e": "x", "f": "x"})
    assert again.mapping.equals(first.mapping)
    assert again.history.num_rows == 0
    assert again.registry_changes.num_rows == 0
    assert again.registry.equals(first.registry)


# ---------------------------------------------------------------- inheritance rules


def test_a_cluster_inherits_the_id_it_shares_most_records_with() -> None:
    builds = Builds()
    builds.run([["a1", "a2"], ["b1", "b2", "b3"]])
    older, larger = builds.id_of("a1"), builds.id_of("b1")
    result = builds.run([["a1", "a2", "b1", "b2", "b3"]])
    # three records had the younger id, two the older: records in common decide first
    assert set(builds.ids().values()) == {larger}
    assert events(result) == {
        "a1": ("merged_into", older, larger),
        "a2": ("merged_into", older, larger),
    }


def test_ties_go_to_the_oldest_id() -> None:
    builds = Builds()
    builds.run([["m1", "m2"]])
    builds.run([["m1", "m2"], ["b1", "b2"]])  # b1's id is issued later: younger
    oldest, younger = builds.id_of("m1"), builds.id_of("b1")
    assert younger < oldest  # the younger id sorts first: the tie is not broken by the id text
    result = builds.run([["b1", "b2", "m1", "m2"]])
    assert set(builds.ids().values()) == {oldest}
    assert events(result)["b1"] == ("merged_into", younger, oldest)
    retired = {row["customer_id"]: row for row in result.registry_changes.to_pylist()}
    assert retired[younger]["successor_customer_id"] == oldest
    assert retired[younger]["retired_build_id"] == "b3"


def test_each_old_id_is_used_once_the_smaller_part_of_a_split_gets_a_fresh_id() -> None:
    builds = Builds()
    builds.run([["a", "b", "c", "d", "e"]])
    kept = builds.id_of("a")
    result = builds.run([["a", "b", "c"], ["d", "e"]])
    assert builds.id_of("a") == kept
    fresh = builds.id_of("d")
    assert fresh != kept and builds.id_of("e") == fresh
    assert fresh == fresh_customer_id("d")  # named like a first build would name it
    assert events(result) == {"d": ("split_from", kept, fresh), "e": ("split_from", kept, fresh)}
    assert [row["customer_id"] for row in result.registry_changes.to_pylist()] == [fresh]


def test_an_id_goes_where_most_of_its_records_went_and_the_other_cluster_takes_its_next_best() -> (
    None
):
    builds = Builds()
    builds.run([["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"], ["b1"]])
    a, b = builds.id_of("a1"), builds.id_of("b1")
    # X holds 3 of A's records and B's only one; Y holds 5 of A's: A goes to Y, and X, whose
    # best id is taken, inherits B instead of a fresh id
    result = builds.run([["a1", "a2", "a3", "b1"], ["a4", "a5", "a6", "a7", "a8"]])
    assert builds.id_of("a4") == a
    assert builds.id_of("a1") == b
    assert events(result) == {r: ("split_from", a, b) for r in ("a1", "a2", "a3")}
    assert result.registry_changes.num_rows == 0  # nothing issued, nothing retired


def test_an_id_outclaimed_everywhere_is_retired_into_the_id_that_took_most_of_its_records() -> None:
    builds = Builds()
    b_records, c_records = ["b1", "b2", "b3", "b4"], ["c1", "c2", "c3", "c4", "c5"]
    builds.run([["a1", "a2", "a3"], b_records, c_records])
    a, b, c = builds.id_of("a1"), builds.id_of("b1"), builds.id_of("c1")
    result = builds.run([[*b_records, "a1"], [*c_records, "a2", "a3"]])
    assert events(result) == {
        "a1": ("merged_into", a, b),
        "a2": ("merged_into", a, c),
        "a3": ("merged_into", a, c),
    }
    [retired] = result.registry_changes.to_pylist()
    assert (retired["customer_id"], retired["successor_customer_id"]) == (a, c)
    # an even share goes to the older id
    builds = Builds()
    builds.run([["a1", "a2"], b_records, c_records])
    a, b = builds.id_of("a1"), builds.id_of("b1")
    result = builds.run([[*c_records, "a1"], [*b_records, "a2"]])
    [retired] = result.registry_changes.to_pylist()
    assert (retired["customer_id"], retired["successor_customer_id"]) == (a, b)


def test_equal_claims_on_one_id_go_to_the_cluster_with_the_smallest_record_key() -> None:
    builds = Builds()
    builds.run([["p", "q", "r", "s"]])
    old = builds.id_of("p")
    builds.run({"p": "one", "s": "one", "q": "two", "r": "two"})
    assert builds.id_of("p") == builds.id_of("s") == old  # {p, s} holds the smallest key
    # the same split whatever the labels and the input order
    other = Builds()
    other.run([["p", "q", "r", "s"]])
    shuffled = clusters({"q": "a", "r": "a", "p": "b", "s": "b"}).take([3, 0, 2, 1])
    other.run(shuffled)
    assert other.ids() == builds.ids()


def test_a_new_record_joins_the_id_of_its_cluster() -> None:
    builds = Builds()
    builds.run([["a", "b"]])
    old = builds.id_of("a")
    result = builds.run([["a", "b", "new"], ["lonely"]])
    assert builds.id_of("new") == old
    assert events(result) == {
        "new": ("created", None, old),
        "lonely": ("created", None, fresh_customer_id("lonely")),
    }


# ---------------------------------------------------------------- fresh ids are never reused


def test_a_fresh_id_that_was_issued_before_is_replaced_by_a_new_one() -> None:
    builds = Builds()
    builds.run([["a", "b", "c"]])
    named_by_a = builds.id_of("a")
    assert named_by_a == fresh_customer_id("a")
    # a leaves; {b, c} keeps the id, and a's own cluster may not take hash("a") again
    builds.run([["a"], ["b", "c"]])
    assert builds.id_of("b") == named_by_a
    assert builds.id_of("a") == fresh_customer_id("a", 1) != named_by_a
    assert ID_FORMAT.match(builds.id_of("a"))


def test_a_retired_id_is_never_issued_again() -> None:
    builds = Builds()
    builds.run([["a"], ["z"]])
    gone = builds.id_of("a")
    result = builds.run([["z"]])
    assert events(result) == {"a": ("retired", gone, None)}
    retired = result.registry_changes.to_pylist()
    assert [(r["customer_id"], r["successor_customer_id"]) for r in retired] == [(gone, None)]
    builds.run([["a"], ["z"]])  # the record comes back: a new id, not the retired one
    assert builds.id_of("a") not in (gone, builds.id_of("z"))
    assert customer_id_aliases(builds.registry).to_pylist()[0] == {
        "customer_id": gone,
        "current_customer_id": None,
    }


def test_fresh_ids_never_collide_with_issued_ids_even_on_a_hash_collision(monkeypatch) -> None:
    # two different keys made to hash to one id: the second cluster gets the next attempt
    monkeypatch.setattr(
        stable_ids,
        "customer_id_for",
        lambda keys: customer_id_for(["same"] if keys[0] in "xy" else keys),
    )
    builds = Builds()
    builds.run([["x"], ["y"]])
    assert builds.id_of("x") == customer_id_for(["same"])
    assert builds.id_of("y") == fresh_customer_id("y", 1)


# ---------------------------------------------------------------- what ids survive


def test_ids_survive_a_cannot_link_split_and_a_must_link_merge() -> None:
    rows = records(("a", "ann", D1), ("b", "ann", D1), ("c", "ann", None), ("d", "ann", None))
    edges = scored(("a", "b", 0.99), ("c", "d", 0.95), ("b", "c", 0.9))
    builds = Builds()
    builds.run(as_clusters(cluster_records(rows, edges, 0.7)[0]))
    together = builds.id_of("a")
    assert set(builds.ids().values()) == {together}
    # a human says a and d are two people: the chain breaks at its weakest link; the halves
    # tie on records, and the one with the smallest key keeps the id
    apart, _ = cluster_records(rows, edges, 0.7, cannot_link=[("a", "d")])
    result = builds.run(as_clusters(apart))
    assert builds.id_of("a") == builds.id_of("b") == together
    split_id = builds.id_of("c")
    assert events(result) == {
        "c": ("split_from", together, split_id),
        "d": ("split_from", together, split_id),
    }
    # the decision is reversed and a must-link joins them with no scored pair: the halves
    # tie again, the older id wins and the other is retired into it
    without_bc = scored(("a", "b", 0.99), ("c", "d", 0.95))
    joined, _ = cluster_records(rows, without_bc, 0.7, must_link=[("b", "c")])
    result = builds.run(as_clusters(joined))
    assert set(builds.ids().values()) == {together}
    assert events(result) == {
        "c": ("merged_into", split_id, together),
        "d": ("merged_into", split_id, together),
    }
    assert customer_id_aliases(builds.registry).to_pydict() == {
        "customer_id": [together, split_id],
        "current_customer_id": [together, together],
    }


def test_ids_survive_a_retrained_model() -> None:
    builds = Builds()
    builds.run(as_clusters(cluster_records(HOUSEHOLD, HOUSEHOLD_PAIRS, 0.7)[0]))
    before = builds.ids()
    # the new model scores every pair differently but draws the same clusters
    retrained = scored(
        ("crm:1", "shop:7", 0.91), ("shop:7", "loyalty:3", 0.88), ("crm:2", "support:9", 0.999)
    )
    result = builds.run(as_clusters(cluster_records(HOUSEHOLD, retrained, 0.7)[0]))
    assert builds.ids() == before and result.history.num_rows == 0
    # and one that no longer links the loyalty record moves that record only
    weaker = scored(("crm:1", "shop:7", 0.91), ("crm:2", "support:9", 0.999))
    result = builds.run(as_clusters(cluster_records(HOUSEHOLD, weaker, 0.7)[0]))
    moved = builds.id_of("loyalty:3")
    assert events(result) == {"loyalty:3": ("split_from", before["crm:1"], moved)}
    assert {r: c for r, c in builds.ids().items() if r != "loyalty:3"} == {
        r: c for r, c in before.items() if r != "loyalty:3"
    }


def test_erasing_the_record_that_named_a_cluster_keeps_the_id_with_the_rest() -> None:
    builds = Builds()
    builds.run(as_clusters(cluster_records(HOUSEHOLD, HOUSEHOLD_PAIRS, 0.7)[0]))
    ann = builds.id_of("crm:1")
    assert ann == customer_id_for(["crm:1"])  # crm:1 named the cluster
    remaining = HOUSEHOLD.filter(pa.compute.not_equal(HOUSEHOLD["person_record_id"], "crm:1"))
    clustered, _ = cluster_records(remaining, HOUSEHOLD_PAIRS, 0.7)
    assert customer_id_for(["loyalty:3", "shop:7"]) in clustered["customer_id"].to_pylist()
    evidence = evidence_from_clustering(
        clustered, erasures=pa.table({"person_record_id": ["crm:1"], "request_id": ["R123"]})
    )
    result = builds.run(as_clusters(clustered), evidence=evidence)
    assert builds.id_of("shop:7") == builds.id_of("loyalty:3") == ann
    [event] = result.history.to_pylist()
    assert (event["person_record_id"], event["change"], event["old_customer_id"]) == (
        "crm:1",
        "removed",
        ann,
    )
    assert (event["evidence_kind"], event["evidence"]) == ("erasure", "erasure request R123")


# ---------------------------------------------------------------- history and evidence


def test_removing_records_removes_them_and_retires_an_id_left_without_records() -> None:
    builds = Builds()
    builds.run([["a", "b"], ["c"]])
    a, c = builds.id_of("a"), builds.id_of("c")
    result = builds.run([["b"]])
    assert events(result) == {"a": ("removed", a, None), "c": ("retired", c, None)}
    assert {row["evidence"] for row in result.history.to_pylist()} == {"record removed"}
    assert {row["evidence_kind"] for row in result.history.to_pylist()} == {"record_removed"}
    assert builds.id_of("b") == a


def test_supplied_evidence_is_attached_and_defaults_fill_the_rest() -> None:
    builds = Builds()
    builds.run([["a", "b"], ["c", "d"], ["e"]])
    evidence = pa.table(
        {
            "person_record_id": ["c", "e", "x"],
            "evidence_kind": ["override", "pair_score", "pair_score"],
            "evidence": ["identity_must_link: a ~ c", "e ~ b", "unused"],
            "match_probability": [None, 0.93, 0.5],
        }
    )
    result = builds.run([["a", "b", "c", "d", "e"], ["new"]], evidence=evidence)
    rows = {row["person_record_id"]: row for row in result.history.to_pylist()}
    assert (rows["c"]["evidence_kind"], rows["c"]["evidence"]) == (
        "override",
        "identity_must_link: a ~ c",
    )
    assert (rows["e"]["evidence_kind"], rows["e"]["match_probability"]) == ("pair_score", 0.93)
    assert (rows["d"]["evidence_kind"], rows["d"]["evidence"]) == ("reclustered", None)
    assert (rows["new"]["evidence_kind"], rows["new"]["change"]) == ("record_new", "created")
    assert "x" not in rows
    # the build id and time of the build are on every event
    assert {(row["build_id"], row["changed_at"]) for row in rows.values()} == {
        ("b2", T0 + dt.timedelta(days=2))
    }


def test_evidence_from_clustering_names_scores_overrides_and_erasures() -> None:
    clustered, _ = cluster_records(HOUSEHOLD, HOUSEHOLD_PAIRS, 0.7, must_link=[("crm:2", "crm:5")])
    evidence = evidence_from_clustering(
        clustered,
        must_link=[("crm:2", "crm:5")],
        erasures=pa.table({"person_record_id": ["crm:0"], "request_id": ["R9"]}),
    )
    rows = {row["person_record_id"]: row for row in evidence.to_pylist()}
    assert rows["shop:7"]["evidence_kind"] == "pair_score"
    assert rows["shop:7"]["match_probability"] == 0.99
    assert rows["loyalty:3"]["match_probability"] == 0.93
    assert rows["crm:5"]["evidence"] == "identity_must_link: crm:2 ~ crm:5"
    assert rows["crm:0"]["evidence_kind"] == "erasure"  # a record gone since: still named
    alone, _ = cluster_records(HOUSEHOLD, scored(), 0.7)
    assert set(evidence_from_clustering(alone)["evidence_kind"].to_pylist()) == {"no_link"}
    assert evidence_from_clustering(alone)["match_probability"].null_count == HOUSEHOLD.num_rows


# ---------------------------------------------------------------- aliases


def test_aliases_follow_merges_to_the_current_id_and_splits_keep_theirs() -> None:
    builds = Builds()
    builds.run([["a1", "a2", "a3"], ["b1", "b2"], ["c1"], ["d1", "d2", "d3", "d4"], ["e1"]])
    a, b, c, d, e = (builds.id_of(r) for r in ("a1", "b1", "c1", "d1", "e1"))
    builds.run([["a1", "a2", "a3", "b1", "b2"], ["c1"], ["d1", "d2", "d3"], ["d4"], ["e1"]])
    builds.run([["a1", "a2", "a3", "b1", "b2", "c1"], ["d1", "d2", "d3"], ["d4"]])
    split = builds.id_of("d4")
    aliases = dict(zip(*customer_id_aliases(builds.registry).to_pydict().values(), strict=True))
    assert aliases == {a: a, b: a, c: a, d: d, split: split, e: None}


def test_aliases_follow_a_chain_of_merges() -> None:
    builds = Builds()
    builds.run([["a"], ["b", "b2"], ["c", "c2", "c3", "c4"]])
    a, b, c = (builds.id_of(r) for r in "abc")
    builds.run([["a", "b", "b2"], ["c", "c2", "c3", "c4"]])  # a -> b
    builds.run([["a", "b", "b2", "c", "c2", "c3", "c4"]])  # b -> c (four records beat three)
    assert builds.ids() == dict.fromkeys(["a", "b", "b2", "c", "c2", "c3", "c4"], c)
    aliases = customer_id_aliases(builds.registry)
    assert aliases["current_customer_id"].to_pylist() == [c, c, c]
    assert aliases["customer_id"].to_pylist() == [a, b, c]


def test_aliases_refuse_a_registry_with_a_cycle_or_an_unknown_successor() -> None:
    builds = Builds()
    builds.run([["a"], ["b"]])
    registry = builds.registry.to_pylist()
    a, b = registry[0]["customer_id"], registry[1]["customer_id"]
    for row, successor in ((registry[0], b), (registry[1], a)):
        row.update(retired_build_id="b9", retired_at=T0, successor_customer_id=successor)
    with pytest.raises(ValueError, match="cycle"):
        customer_id_aliases(pa.Table.from_pylist(registry, stable_ids.REGISTRY_SCHEMA))
    registry[1]["successor_customer_id"] = "cus_0000000000000000"
    with pytest.raises(ValueError, match="never issued"):
        customer_id_aliases(pa.Table.from_pylist(registry, stable_ids.REGISTRY_SCHEMA))


# ---------------------------------------------------------------- the rules at scale


def random_builds(seed: int, builds: int = 6, records: int = 300) -> list[list[list[str]]]:
    """Successive clusterings of a changing population: merges, splits, moves, arrivals and
    departures, with many equal overlaps (small clusters)."""
    rng = random.Random(seed)
    population = [f"r{i:04d}" for i in range(records)]
    groups: list[list[str]] = []
    pool = population[:]
    rng.shuffle(pool)
    while pool:
        size = min(len(pool), rng.choice([1, 1, 2, 2, 3, 4, 6]))
        groups.append([pool.pop() for _ in range(size)])
    history = [groups]
    next_record = records
    for _ in range(builds - 1):
        groups = [g[:] for g in groups]
        for _ in range(rng.randint(3, 25)):
            action = rng.random()
            if action < 0.25 and len(groups) > 1:  # merge two
                i, j = rng.sample(range(len(groups)), 2)
                groups[i] += groups[j]
                groups[j] = []
            elif action < 0.5:  # split one
                i = rng.randrange(len(groups))
                if len(groups[i]) > 1:
                    rng.shuffle(groups[i])
                    cut = rng.randint(1, len(groups[i]) - 1)
                    groups.append(groups[i][cut:])
                    groups[i] = groups[i][:cut]
            elif action < 0.7:  # move a record
                i, j = rng.randrange(len(groups)), rng.randrange(len(groups))
                if groups[i]:
                    groups[j].append(groups[i].pop(rng.randrange(len(groups[i]))))
            elif action < 0.85:  # a new record, alone or joining
                record = f"r{next_record:04d}"
                next_record += 1
                if rng.random() < 0.5:
                    groups.append([record])
                else:
                    groups[rng.randrange(len(groups))].append(record)
            else:  # a record removed
                i = rng.randrange(len(groups))
                if groups[i]:
                    groups[i].pop(rng.randrange(len(groups[i])))
            groups = [g for g in groups if g]
        history.append(groups)
    return history


@pytest.mark.parametrize("max_rounds", [16, 1])
@pytest.mark.parametrize("seed", range(8))
def test_vectorised_matching_equals_the_rules_applied_one_candidate_at_a_time(
    seed: int, max_rounds: int, monkeypatch
) -> None:
    # max_rounds=1 leaves most contests to the one-by-one tail: both paths must agree
    monkeypatch.setattr(stable_ids, "_MAX_ROUNDS", max_rounds)
    builds = Builds()
    for groups in random_builds(seed):
        previous = builds.ids()
        age = {row["customer_id"]: row["issue_number"] for row in builds.registry.to_pylist()}
        expected = reference_inheritance(previous, groups, age)
        result = builds.run(groups)
        for i, group in enumerate(groups):
            got = {builds.id_of(record) for record in group}
            assert len(got) == 1
            if expected[i] is None:
                assert got.isdisjoint(age)  # fresh: never issued before
            else:
                assert got == {expected[i]}
        # maximal: a record whose id did not come along either left an id that lives on
        # (split_from) or saw its id retired into the one it now has (merged_into)
        live = set(builds.ids().values())
        for change, old, new in events(result).values():
            if change == "split_from":
                assert old in live
            elif change == "merged_into":
                assert old not in live and new in age


# ---------------------------------------------------------------- bad input


def test_bad_input_fails_naming_what_and_where() -> None:
    builds = Builds()
    builds.run([["a", "b"], ["c"]])
    good = clusters([["a", "b"], ["c"]])

    def run(table=good, previous=None, registry=None, **kwargs):
        return assign_customer_ids(
            table,
            builds.mapping if previous is None else previous,
            builds.registry if registry is None else registry,
            kwargs.get("build_id", "b2"),
            kwargs.get("built_at", T0),
            evidence=kwargs.get("evidence"),
        )

    with pytest.raises(ValueError, match="clusters lacks column 'cluster_key'"):
        run(good.select(["person_record_id"]))
    with pytest.raises(ValueError, match=r"clusters.person_record_id repeats 1 value.*'a'"):
        run(clusters({"a": "x", "b": "x"}).take([0, 0, 1]))
    with pytest.raises(ValueError, match=r"clusters.cluster_key has 1 NULL"):
        run(pa.table({"person_record_id": ["a"], "cluster_key": pa.array([None], pa.string())}))
    with pytest.raises(ValueError, match="timezone-aware"):
        run(built_at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="build_id"):
        run(build_id="")
    with pytest.raises(ValueError, match="does not list as active"):
        run(registry=empty_registry())
    with pytest.raises(ValueError, match="no record in the previous mapping"):
        run(previous=builds.mapping.take([0, 1]))
    with pytest.raises(ValueError, match=r"previous mapping.person_record_id repeats"):
        run(previous=builds.mapping.take([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="evidence_kind has value"):
        run(
            evidence=pa.table(
                {"person_record_id": ["a"], "evidence_kind": ["hunch"], "evidence": ["x"]}
            )
        )
    with pytest.raises(ValueError, match=r"evidence.person_record_id repeats"):
        run(
            clusters([["a", "b", "c"]]),
            evidence=pa.table(
                {
                    "person_record_id": ["c", "c"],
                    "evidence_kind": ["override", "override"],
                    "evidence": ["x", "y"],
                }
            ),
        )


def changed_part(previous: dict[str, str], groups: list[list[str]]) -> set[str]:
    """Records of the components (records joined by a previous id or a new cluster) where
    anything changed: what an incremental build re-clusters."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    old_groups: dict[str, list[str]] = {}
    for record, customer in previous.items():
        old_groups.setdefault(customer, []).append(record)
    for members in [*old_groups.values(), *groups]:
        for record in members:
            union(members[0], record)
    unchanged = {frozenset(members) for members in old_groups.values()} & {
        frozenset(group) for group in groups
    }
    components: dict[str, set[str]] = {}
    for record in parent:
        components.setdefault(find(record), set()).add(record)
    return {
        record
        for members in components.values()
        if frozenset(members) not in unchanged
        for record in members
    }


@pytest.mark.parametrize("seed", range(6))
def test_assigning_only_the_changed_components_equals_a_full_assignment(seed: int) -> None:
    full, partial = Builds(), Builds()
    for number, groups in enumerate(random_builds(seed)):
        previous = full.ids()
        part = changed_part(previous, groups)
        expected = full.run(groups)
        result = assign_customer_ids(
            clusters([g for g in groups if part.issuperset(g)]),
            partial.mapping.filter(
                pa.compute.is_in(partial.mapping["person_record_id"], pa.array(sorted(part)))
            ),
            partial.registry,
            build_id=f"b{number + 1}",
            built_at=T0 + dt.timedelta(days=number + 1),
            complete=False,
        )
        assert result.history.equals(expected.history)
        assert result.registry.equals(expected.registry)
        assert result.registry_changes.equals(expected.registry_changes)
        merged = {r: c for r, c in as_dict(partial.mapping).items() if r not in part}
        merged |= as_dict(result.mapping)
        assert merged == full.ids()
        partial.mapping = pa.Table.from_pylist(
            [{"person_record_id": r, "customer_id": c} for r, c in sorted(merged.items())],
            schema=stable_ids.MAPPING_SCHEMA,
        )
        partial.registry = result.registry
    assert len(part) < len(full.ids())  # the last build left some components alone


# ---------------------------------------------------------------- lineage (the dbt state)


def clustered_of(groups: list[list[str]]) -> pa.Table:
    """A clustering's output: each group labelled as clustering labels it today."""
    rows = sorted(
        (record, customer_id_for(group), 0.9 if len(group) > 1 else 1.0)
        for group in groups
        for record in group
    )
    return pa.table(
        {
            "person_record_id": pa.array([r for r, _, _ in rows], pa.string()),
            "customer_id": pa.array([c for _, c, _ in rows], pa.string()),
            "cluster_confidence": pa.array([p for _, _, p in rows], pa.float64()),
        }
    )


class Lineage:
    """Appends each build's rows to one lineage table, as the dbt model does."""

    def __init__(self) -> None:
        self.rows = LINEAGE_SCHEMA.empty_table()
        self.number = 0

    def run(self, groups: list[list[str]], **options) -> pa.Table:
        self.number += 1
        appended = next_lineage(
            self.rows,
            clustered_of(groups),
            f"b{self.number}",
            T0 + dt.timedelta(days=self.number),
            **options,
        )
        assert appended.schema == LINEAGE_SCHEMA
        self.rows = pa.concat_tables([self.rows, appended])
        return appended

    def ids(self) -> dict[str, str]:
        return as_dict(lineage_state(self.rows)[0])

    def events(self, appended: pa.Table) -> dict[str, tuple]:
        return {
            row["person_record_id"]: (row["change"], row["old_customer_id"], row["new_customer_id"])
            for row in appended.to_pylist()
            if row["row_kind"] == "event"
        }

    def aliases(self) -> dict[str, str | None]:
        table = aliases_from_lineage(self.rows)
        return dict(
            zip(
                table["customer_id"].to_pylist(),
                table["current_customer_id"].to_pylist(),
                strict=True,
            )
        )


def test_the_lineage_carries_ids_from_build_to_build_and_an_unchanged_build_appends_nothing() -> (
    None
):
    lineage = Lineage()
    first = lineage.run([["crm:1", "shop:7"], ["crm:2"]])
    assert lineage.ids() == {
        "crm:1": customer_id_for(["crm:1"]),
        "shop:7": customer_id_for(["crm:1"]),
        "crm:2": customer_id_for(["crm:2"]),
    }
    assert first["lineage_sequence"].to_pylist() == [1] * 5
    assert sorted(first["row_kind"].to_pylist()) == ["event"] * 3 + ["registry"] * 2
    assert lineage.run([["crm:1", "shop:7"], ["crm:2"]]).num_rows == 0
    # crm:1 (which named the cluster) is erased; crm:2 joins shop:7
    erased = pa.table({"customer_id": [customer_id_for(["crm:1"])], "request_id": ["R9"]})
    third = lineage.run([["crm:2", "shop:7"]], erased_customers=erased)
    assert set(third["lineage_sequence"].to_pylist()) == {2}  # builds that appended rows
    assert lineage.events(third) == {
        "crm:1": ("removed", customer_id_for(["crm:1"]), None),
        "crm:2": ("merged_into", customer_id_for(["crm:2"]), customer_id_for(["crm:1"])),
    }
    evidence = {row["person_record_id"]: row["evidence"] for row in third.to_pylist()}
    assert evidence["crm:1"] == "erasure request R9"
    assert lineage.ids() == {
        "crm:2": customer_id_for(["crm:1"]),
        "shop:7": customer_id_for(["crm:1"]),
    }
    assert lineage.aliases() == {
        customer_id_for(["crm:1"]): customer_id_for(["crm:1"]),
        customer_id_for(["crm:2"]): customer_id_for(["crm:1"]),
    }
    with pytest.raises(ValueError, match="already in the lineage"):
        next_lineage(lineage.rows, clustered_of([["crm:2"]]), "b3", T0)


def test_a_restart_gives_every_record_a_fresh_id_never_issued_before() -> None:
    lineage = Lineage()
    lineage.run([["crm:1", "shop:7"], ["crm:2"]])
    before = lineage.ids()
    restart = lineage.run([["crm:1", "shop:7"]], restart=True)
    after = lineage.ids()
    assert set(after) == {"crm:1", "shop:7"}
    assert not set(after.values()) & set(before.values())
    assert all(ID_FORMAT.match(value) for value in after.values())
    assert lineage.events(restart) == {
        "crm:1": ("created", before["crm:1"], after["crm:1"]),
        "shop:7": ("created", before["shop:7"], after["shop:7"]),
        "crm:2": ("retired", before["crm:2"], None),
    }
    assert {row["evidence_kind"] for row in restart.to_pylist() if row["row_kind"] == "event"} == {
        "restart"
    }
    # the ids before the restart lead nowhere; the new one to itself
    assert lineage.aliases() == {
        before["crm:1"]: None,
        before["crm:2"]: None,
        after["crm:1"]: after["crm:1"],
    }
    # and the next build carries the new ids on
    assert lineage.run([["crm:1", "shop:7"]]).num_rows == 0


# ---------------------------------------------------------------- lineage read in the warehouse


class WarehouseLineage:
    """The lineage and the clustering as tables of a DuckDB connection, as the dbt models
    keep them, each build assigned by next_lineage_in_warehouse. A record keeps the build
    that last clustered it unless it is in `reclustered` (an incremental clustering's part)."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.number = 0
        self.clustered_in: dict[str, str] = {}
        self.reads: list[dict] = []

    def run(self, groups: list[list[str]], reclustered: set[str] | None = None, **options):
        self.number += 1
        build = f"b{self.number}"
        clustered = clustered_of(groups)
        records = clustered["person_record_id"].to_pylist()
        self.clustered_in = {
            record: build
            if reclustered is None or record in reclustered or record not in self.clustered_in
            else self.clustered_in[record]
            for record in records
        }
        self.con.register(
            "this_build",
            clustered.append_column(
                "clustered_in_build",
                pa.array([self.clustered_in[r] for r in records], pa.string()),
            ),
        )
        self.con.execute("create or replace table clustered as select * from this_build")
        self.con.unregister("this_build")
        exists = self.con.execute(
            "select count(*) from information_schema.tables where table_name = 'lineage'"
        ).fetchall()[0][0]
        rows, read = next_lineage_in_warehouse(
            self.con,
            "lineage" if exists else None,
            "clustered",
            build,
            T0 + dt.timedelta(days=self.number),
            **options,
        )
        self.reads.append(read)
        self.con.register("appended", rows)
        if exists:
            self.con.execute("insert into lineage select * from appended")
        else:
            self.con.execute("create table lineage as select * from appended")
        self.con.unregister("appended")
        return rows

    def ids(self) -> dict[str, str]:
        return as_dict(lineage_state(self.con.sql("select * from lineage").arrow().read_all())[0])


@pytest.mark.parametrize("seed", range(8))
def test_the_lineage_read_in_the_warehouse_appends_the_rows_of_the_whole_lineage(
    seed: int,
) -> None:
    everything, warehouse = Lineage(), WarehouseLineage()
    for number, groups in enumerate(random_builds(seed, builds=8)):
        part = changed_part(everything.ids(), groups) if number else None
        if number == 3:  # a clustering whose lineage build stopped: seen by the next one
            warehouse.clustered_in.update({r: "stopped" for g in groups for r in g if r in part})
        expected = everything.run(groups)
        got = warehouse.run(groups, reclustered=part)
        assert got.equals(expected), f"build {number + 1}"
        assert warehouse.ids() == everything.ids()
    assert [read["path"] for read in warehouse.reads] == ["full"] + ["incremental"] * 7
    last = warehouse.reads[-1]
    assert last["assigned"] < last["records"]  # the last build left some records alone


def test_the_lineage_read_in_the_warehouse_never_issues_an_id_outside_what_it_read() -> None:
    everything, warehouse = Lineage(), WarehouseLineage()
    builds = [
        ([["a", "b"], ["z"]], None),
        ([["b"], ["z"]], {"a", "b"}),  # a (which named the cluster) is removed, b keeps its id
        ([["a"], ["b"], ["z"]], {"a"}),  # a is back alone: its first fresh id is b's
    ]
    for groups, part in builds:
        expected = everything.run(groups)
        assert warehouse.run(groups, reclustered=part).equals(expected)
    assert warehouse.reads[-1] | {"registry": None} == {
        "path": "incremental",
        "assigned": 1,
        "records": 3,
        "previous": 0,
        "registry": None,
    }
    assert warehouse.ids()["a"] == fresh_customer_id("a", 1)
    assert warehouse.ids()["b"] == fresh_customer_id("a")


def test_the_lineage_read_in_the_warehouse_moves_a_fresh_id_past_a_hash_collision(
    monkeypatch,
) -> None:
    # x, y and w made to hash to one id: each later one takes its next attempt, although the
    # id it would take was issued to a record the build does not read
    monkeypatch.setattr(
        stable_ids,
        "customer_id_for",
        lambda keys: customer_id_for(["same"] if keys[0] in "xyw" else keys),
    )
    everything, warehouse = Lineage(), WarehouseLineage()
    for groups, part in [
        ([["x"], ["z"]], None),
        ([["x"], ["y"], ["z"]], {"y"}),
        ([["w"], ["x"], ["y"], ["z"]], {"w"}),
    ]:
        assert warehouse.run(groups, reclustered=part).equals(everything.run(groups))
    ids = warehouse.ids()
    assert ids["x"] == customer_id_for(["same"])
    assert (ids["y"], ids["w"]) == (fresh_customer_id("y", 1), fresh_customer_id("w", 1))
    assert [read["assigned"] for read in warehouse.reads] == [2, 1, 1]


def test_the_lineage_read_in_the_warehouse_restarts_over_everything() -> None:
    everything, warehouse = Lineage(), WarehouseLineage()
    for groups, part, restart in [
        ([["crm:1", "shop:7"], ["crm:2"]], None, False),
        ([["crm:1", "shop:7"]], {"crm:1"}, True),
    ]:
        expected = everything.run(groups, restart=restart)
        assert warehouse.run(groups, reclustered=part, restart=restart).equals(expected)
    assert warehouse.reads[-1]["path"] == "full"
    with pytest.raises(ValueError, match="already in the lineage"):
        next_lineage_in_warehouse(warehouse.con, "lineage", "clustered", "b2", T0)
