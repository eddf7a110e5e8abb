"""Identity resolution: guarded clustering and Splink scoring on planted known answers."""

from __future__ import annotations

import datetime as dt
import gc
import random

import pyarrow as pa

from c360.identity.clustering import (
    cluster_records,
    customer_id_for,
    jaro_winkler,
    names_compatible,
)
from c360.identity.scoring import MATCH_COLUMNS, explain, score_pairs

D1, D2 = dt.date(1990, 2, 13), dt.date(1985, 7, 4)


def records(*rows: tuple) -> pa.Table:
    """(person_record_id, first_name_canonical, birth_date) rows."""
    ids, names, births = zip(*rows, strict=True)
    return pa.table(
        {
            "person_record_id": pa.array(ids, pa.string()),
            "first_name_canonical": pa.array(names, pa.string()),
            "birth_date": pa.array(births, pa.date32()),
        }
    )


def pairs(*edges: tuple[str, str, float]) -> pa.Table:
    left, right, probability = zip(*edges, strict=True) if edges else ((), (), ())
    return pa.table(
        {
            "person_record_id_l": pa.array(left, pa.string()),
            "person_record_id_r": pa.array(right, pa.string()),
            "match_probability": pa.array(probability, pa.float64()),
        }
    )


def customers(table: pa.Table) -> dict[str, str]:
    return dict(
        zip(table["person_record_id"].to_pylist(), table["customer_id"].to_pylist(), strict=True)
    )


def test_every_record_gets_exactly_one_customer() -> None:
    result, _ = cluster_records(
        records(("a", "ann", D1), ("b", "ann", D1), ("c", "bob", D2)), pairs(("a", "b", 0.99)), 0.7
    )
    assert sorted(result["person_record_id"].to_pylist()) == ["a", "b", "c"]
    ids = customers(result)
    assert ids["a"] == ids["b"] != ids["c"]


def test_twins_sharing_address_and_phone_stay_two_customers() -> None:
    # same birthday, strong edge from shared phone/address, different first names
    result, decisions = cluster_records(
        records(("a", "mary", D1), ("b", "anna", D1)), pairs(("a", "b", 0.98)), 0.7
    )
    ids = customers(result)
    assert ids["a"] != ids["b"]
    assert decisions.refused_first_name == 1


def test_different_dates_of_birth_never_merge() -> None:
    result, decisions = cluster_records(
        records(("a", "john", D1), ("b", "john", D2)), pairs(("a", "b", 0.99)), 0.7
    )
    assert customers(result)["a"] != customers(result)["b"]
    assert decisions.refused_birth_date == 1


def test_a_shared_household_email_does_not_chain_two_people() -> None:
    # a guest order (no name) scores high with both spouses; it joins one, never both
    rows = records(("wife", "mary", D1), ("guest", None, None), ("husband", "john", D2))
    result, _ = cluster_records(
        rows, pairs(("guest", "wife", 0.97), ("guest", "husband", 0.95)), 0.7
    )
    ids = customers(result)
    assert ids["wife"] == ids["guest"] != ids["husband"]


def test_cannot_link_splits_a_chain() -> None:
    rows = records(("a", "ann", None), ("b", "ann", None), ("c", "ann", None))
    edges = pairs(("a", "b", 0.99), ("b", "c", 0.98))
    assert len(set(customers(cluster_records(rows, edges, 0.7)[0]).values())) == 1
    result, decisions = cluster_records(rows, edges, 0.7, cannot_link=[("a", "c")])
    ids = customers(result)
    assert ids["a"] == ids["b"] != ids["c"]
    assert decisions.refused_cannot_link == 1


def test_must_link_joins_records_with_no_evidence() -> None:
    rows = records(("a", "ann", D1), ("b", None, None))
    assert (
        customers(cluster_records(rows, pairs(), 0.7)[0])["a"]
        != customers(cluster_records(rows, pairs(), 0.7)[0])["b"]
    )
    ids = customers(cluster_records(rows, pairs(), 0.7, must_link=[("a", "b")])[0])
    assert ids["a"] == ids["b"]


def test_edges_below_threshold_and_oversized_clusters_are_refused() -> None:
    rows = records(*[(f"r{i}", "ann", None) for i in range(5)])
    chain = pairs(*[(f"r{i}", f"r{i + 1}", 0.99) for i in range(4)])
    assert len(set(customers(cluster_records(rows, chain, 0.995)[0]).values())) == 5
    result, decisions = cluster_records(rows, chain, 0.7, max_cluster_size=3)
    assert (
        max(list(customers(result).values()).count(c) for c in set(customers(result).values())) == 3
    )
    assert decisions.refused_size >= 1


def test_clustering_is_deterministic_whatever_the_pair_order() -> None:
    rows = records(*[(f"r{i}", "ann" if i % 3 else "bob", None) for i in range(30)])
    edges = [
        (f"r{i}", f"r{j}", 0.75 + (i * j % 20) / 100)
        for i in range(30)
        for j in range(i + 1, 30)
        if (i + j) % 4 == 0
    ]
    shuffled = edges[:]
    random.Random(3).shuffle(shuffled)
    assert cluster_records(rows, pairs(*edges), 0.7)[0].equals(
        cluster_records(rows, pairs(*shuffled), 0.7)[0]
    )


def test_records_in_any_order_give_one_result_in_key_order() -> None:
    # the dbt model hands records over sorted; any other order is sorted first, and the
    # customer id is still the hash of each cluster's smallest key
    rows = records(*[(f"r{i:02d}", "ann" if i % 3 else "bob", None) for i in range(30)])
    edges = pairs(*[(f"r{i:02d}", f"r{i + 1:02d}", 0.9) for i in range(0, 29, 2)])
    shuffled = rows.take(random.Random(7).sample(range(30), 30))
    result = cluster_records(rows, edges, 0.7)[0]
    assert cluster_records(shuffled, edges, 0.7)[0].equals(result)
    assert result.column("person_record_id").to_pylist() == sorted(f"r{i:02d}" for i in range(30))
    assert customers(result)["r05"] == customer_id_for(["r04", "r05"])
    assert gc.isenabled()  # paused only while clustering runs


def test_component_fast_path_equals_edge_by_edge_guarded_clustering() -> None:
    # households of look-alikes: shared and conflicting birth dates and names, chains longer
    # than the size cap, must-link and cannot-link decisions; both paths must agree exactly
    rng = random.Random(5)
    names = ["ann", "anne", "bob", "mary", "mark", "jennifer", "jenifer", None, ""]
    births = [D1, D2, dt.date(1950, 3, 1), None, None]
    rows = records(*[(f"r{i:03d}", rng.choice(names), rng.choice(births)) for i in range(300)])
    edges = []
    for _ in range(600):
        i = rng.randrange(300)
        j = min(299, max(0, i + rng.randint(-6, 6)))
        if i != j:
            edges.append((f"r{i:03d}", f"r{j:03d}", round(rng.uniform(0.5, 1.0), 2)))
    edges.append(("r001", "orphan", 0.99))
    decisions = {
        "must_link": [("r010", "r200"), ("r020", "r021")],
        "cannot_link": [("r030", "r033")],
    }
    for guarded in (True, False):
        for cap in (4, 50):
            fast, fast_counts = cluster_records(
                rows, pairs(*edges), 0.7, cap, guarded=guarded, **decisions
            )
            slow, slow_counts = cluster_records(
                rows, pairs(*edges), 0.7, cap, guarded=guarded, split_components=False, **decisions
            )
            assert fast.equals(slow)
            assert fast_counts == slow_counts
    assert len(set(customers(fast).values())) < 300 - 50  # it did merge a lot


def test_name_similarity() -> None:
    assert jaro_winkler("martha", "marhta") > 0.96
    assert names_compatible({"jennifer"}, {"jenifer"})
    assert not names_compatible({"mark"}, {"mary"})
    assert names_compatible(set(), {"mary"})


def person_records(*rows: dict) -> pa.Table:
    """Person records in the shape Splink scores, from dicts (missing keys are NULL)."""
    return pa.table(
        {
            c: pa.array([r.get(c) for r in rows], pa.date32() if c == "birth_date" else pa.string())
            for c in MATCH_COLUMNS
        }
    )


def probability(table: pa.Table, left: str, right: str) -> float:
    """Scored probability of the pair (left, right), 0 when it was not scored."""
    for row in table.to_pylist():
        if {row["person_record_id_l"], row["person_record_id_r"]} == {left, right}:
            return row["match_probability"]
    return 0.0


def test_fewer_than_two_records_score_no_pairs() -> None:
    assert score_pairs(person_records({"person_record_id": "crm:1"})).num_rows == 0


def test_unguarded_mode_is_plain_connected_components() -> None:
    rows = records(("a", "mary", D1), ("b", "anna", D1))
    result, _ = cluster_records(rows, pairs(("a", "b", 0.98)), 0.7, guarded=False)
    assert customers(result)["a"] == customers(result)["b"]


def test_explain_names_each_comparisons_level_once_per_pair() -> None:
    labels = {
        "gamma_email_key": {-1: "null", 0: "All other comparisons", 1: "Exact match"},
        "gamma_birth_date": {-1: "null", 0: "All other", 1: "Within a year", 2: "Exact"},
    }
    pairs_table = pa.table(
        {
            "gamma_email_key": pa.array([1, 1, -1, 0, None], pa.int32()),
            "gamma_birth_date": pa.array([2, 2, 1, 7, 0], pa.int32()),
        }
    )
    assert explain(pairs_table, labels).to_pylist() == [
        "email_key: Exact match; birth_date: Exact",
        "email_key: Exact match; birth_date: Exact",
        "email_key: null; birth_date: Within a year",
        "email_key: All other comparisons; birth_date: 7",  # a level the model does not name
        "email_key: None; birth_date: All other",
    ]
