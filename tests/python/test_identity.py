"""Identity resolution: guarded clustering and Splink scoring on planted known answers."""

from __future__ import annotations

import datetime as dt
import gc
import random
import re

import pyarrow as pa
import pytest

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
    names = ["ann", "anne", "bob", "mary", "mark", "jennifer", "jenifer", "louis", "louise"]
    names += [None, ""]
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


# --- guards: contradictions, not typos --------------------------------------------------


def guard_records(*rows: dict) -> pa.Table:
    """Person records with the columns the guards read (missing keys are NULL)."""
    from c360.identity.clustering import GUARD_COLUMNS

    return pa.table(
        {
            c: pa.array([r.get(c) for r in rows], pa.date32() if c == "birth_date" else pa.string())
            for c in GUARD_COLUMNS
        }
    )


def person(record_id: str, first: str | None, **fields) -> dict:
    """A record of the Smith household at 12 Main St unless told otherwise."""
    return {
        "person_record_id": record_id,
        "first_name_key": first,
        "first_name_canonical": first,
        "last_name_key": "smith",
        "postal_code_key": "10001",
        "street_key": "12 main st",
        **fields,
    }


def test_relations_tell_typos_from_other_values() -> None:
    from c360.identity.clustering import (
        DIFFERENT,
        SAME,
        TYPO,
        birth_date_relation,
        name_relation,
        one_edit_apart,
    )

    assert one_edit_apart("mark", "mrrk") and one_edit_apart("jerry", "jeryr")  # substitution, swap
    assert one_edit_apart("emma", "ema") and one_edit_apart("ema", "emma")  # deletion, insertion
    assert not one_edit_apart("mark", "mike") and not one_edit_apart("mark", "mark")
    rare = {"mark": 300, "mrrk": 1, "mary": 250}
    assert name_relation(("mark", "mark"), ("mrrk", "mrrk"), rare) == TYPO
    # two common names one letter apart are two names (twins Mary and Mark), not a typo
    assert name_relation(("mark", "mark"), ("mary", "mary"), rare) == DIFFERENT
    assert name_relation(("bob", "robert"), ("robert", "robert"), rare) == SAME
    assert name_relation(("liam", "william"), ("laim", "laim"), {}) != DIFFERENT  # the key's typo
    born = dt.date(1961, 8, 3)
    assert birth_date_relation(born, dt.date(1961, 8, 8)) == TYPO  # one digit
    assert birth_date_relation(born, dt.date(1961, 8, 30)) == TYPO  # 03 -> 30, transposed
    assert birth_date_relation(born, dt.date(1961, 3, 8)) == TYPO  # day and month swapped
    assert birth_date_relation(born, dt.date(1961, 9, 3)) == TYPO
    assert birth_date_relation(born, dt.date(1962, 9, 4)) == DIFFERENT  # three digits
    # one digit, but a generation apart: indistinguishable from a parent, never excused
    assert birth_date_relation(born, dt.date(1981, 8, 3)) == DIFFERENT


def test_a_one_letter_typo_in_a_short_first_name_merges_when_contacts_agree() -> None:
    rows = guard_records(
        person("a", "mark", birth_date=D1, email_key="m@x.com"),
        person("b", "mrrk", birth_date=D1, email_key="m@x.com"),
    )
    result, decisions = cluster_records(rows, pairs(("a", "b", 0.99)), 0.7)
    assert customers(result)["a"] == customers(result)["b"]
    assert decisions.refused_first_name == 0


def test_a_first_name_typo_with_contacts_of_its_own_is_another_person() -> None:
    rows = guard_records(
        person("a", "mark", birth_date=D1, email_key="m@x.com", phone_e164="+1"),
        person("b", "mrrk", birth_date=D1, email_key="other@y.com", phone_e164="+2"),
    )
    result, decisions = cluster_records(rows, pairs(("a", "b", 0.99)), 0.7)
    assert customers(result)["a"] != customers(result)["b"]
    assert decisions.refused_first_name == 1


def test_twins_with_their_own_emails_stay_apart_even_on_a_shared_home_phone() -> None:
    rows = guard_records(
        person("a", "mary", birth_date=D1, email_key="mary@x.com", phone_e164="+1"),
        person("b", "anna", birth_date=D1, email_key="anna@x.com", phone_e164="+1"),
    )
    result, _ = cluster_records(rows, pairs(("a", "b", 0.99)), 0.7)
    assert customers(result)["a"] != customers(result)["b"]


def test_twins_each_confirmed_by_two_records_stay_apart() -> None:
    rows = guard_records(
        person("a1", "mary", birth_date=D1),
        person("a2", "mary", birth_date=D1),
        person("b1", "anna", birth_date=D1),
        person("b2", "anna", birth_date=D1),
    )
    edges = pairs(("a1", "a2", 0.999), ("b1", "b2", 0.999), ("a1", "b1", 0.99))
    ids = customers(cluster_records(rows, edges, 0.7)[0])
    assert ids["a1"] == ids["a2"] != ids["b1"] == ids["b2"]


def test_twin_contacts_on_one_side_only_are_not_one_person() -> None:
    # the twin's record carries no email, the other twin's does: not everything agrees
    rows = guard_records(
        person("a", "stephen", birth_date=D1),
        person("b", "ines", birth_date=D1, email_key="family@x.com", phone_e164="+1"),
    )
    assert (
        customers(cluster_records(rows, pairs(("a", "b", 0.99)), 0.7)[0])["a"]
        != customers(cluster_records(rows, pairs(("a", "b", 0.99)), 0.7)[0])["b"]
    )


def test_a_single_replaced_first_name_merges_when_everything_else_agrees() -> None:
    # FEBRL-style: one record's first name replaced; birth date, last name and address agree
    rows = guard_records(
        person("a1", "amelia", birth_date=D1),
        person("a2", "amelia", birth_date=D1),
        person("b", "edward", birth_date=D1),
    )
    edges = pairs(("a1", "a2", 0.999), ("a1", "b", 0.98))
    ids = customers(cluster_records(rows, edges, 0.7)[0])
    assert ids["a1"] == ids["a2"] == ids["b"]


def test_a_different_first_name_without_a_shared_birth_date_is_another_household_member() -> None:
    # a ticket (no birth date) from another member of the household, on the family email
    rows = guard_records(
        person("crm", "mary", birth_date=D1, email_key="family@x.com"),
        person("ticket", "anna", email_key="family@x.com"),
    )
    result, decisions = cluster_records(rows, pairs(("crm", "ticket", 0.99)), 0.7)
    assert customers(result)["crm"] != customers(result)["ticket"]
    assert decisions.refused_first_name == 1


def test_a_birth_date_typo_merges_when_name_and_address_agree() -> None:
    # one digit wrong, two digits transposed, day and month swapped
    for other in (dt.date(1990, 2, 18), dt.date(1990, 2, 21), dt.date(1990, 12, 2)):
        rows = guard_records(
            person("a", "john", birth_date=dt.date(1990, 2, 12)),
            person("b", "john", birth_date=other),
        )
        ids = customers(cluster_records(rows, pairs(("a", "b", 0.95)), 0.7)[0])
        assert ids["a"] == ids["b"], other


def test_a_birth_date_typo_without_a_shared_address_or_contact_is_refused() -> None:
    rows = guard_records(
        person("a", "john", birth_date=dt.date(1990, 2, 13)),
        person(
            "b",
            "john",
            birth_date=dt.date(1990, 2, 18),
            street_key="9 oak ave",
            postal_code_key="94105",
        ),
    )
    result, decisions = cluster_records(rows, pairs(("a", "b", 0.95)), 0.7)
    assert customers(result)["a"] != customers(result)["b"]
    assert decisions.refused_birth_date == 1


def test_parent_and_child_of_one_name_and_address_stay_apart() -> None:
    father = dt.date(1961, 8, 3)
    son = dt.date(1991, 8, 3)  # one digit from his father's date, a generation later
    # each with their own phone
    rows = guard_records(
        person("sr", "john", birth_date=father, phone_e164="+1"),
        person("jr", "john", birth_date=son, phone_e164="+2"),
    )
    assert (
        customers(cluster_records(rows, pairs(("sr", "jr", 0.99)), 0.7)[0])["sr"]
        != customers(cluster_records(rows, pairs(("sr", "jr", 0.99)), 0.7)[0])["jr"]
    )
    # or each date of birth carried by two records
    rows = guard_records(
        person("sr1", "john", birth_date=father),
        person("sr2", "john", birth_date=father),
        person("jr1", "john", birth_date=son),
        person("jr2", "john", birth_date=son),
    )
    edges = pairs(("sr1", "sr2", 0.999), ("jr1", "jr2", 0.999), ("sr1", "jr1", 0.99))
    ids = customers(cluster_records(rows, edges, 0.7)[0])
    assert ids["sr1"] == ids["sr2"] != ids["jr1"] == ids["jr2"]


def test_two_contradicting_identifiers_never_merge() -> None:
    rows = guard_records(
        person("a", "isaac", birth_date=dt.date(1986, 11, 16)),
        person("b", "sarah", birth_date=dt.date(1926, 7, 5)),
    )
    result, _ = cluster_records(rows, pairs(("a", "b", 0.999)), 0.7)
    assert customers(result)["a"] != customers(result)["b"]


def test_two_typos_of_one_long_name_are_one_name_but_two_real_names_are_not() -> None:
    from c360.identity.clustering import DIFFERENT, TYPO, name_relation, two_edits_apart

    assert two_edits_apart("tohams", "thomas")  # two transpositions
    assert two_edits_apart("nhicholas", "nichoas")  # each record its own typo of Nicholas
    assert not two_edits_apart("thomas", "thomas") and not two_edits_apart("mark", "mrrk")
    assert not two_edits_apart("thomas", "jo")
    counts = {"thomas": 400, "tohams": 1, "johanna": 60, "joanne": 50, "jamse": 1, "jaems": 1}
    assert name_relation(("tohams", "tohams"), ("thomas", "thomas"), counts) == TYPO
    # two names in their own right two edits apart (sisters Johanna and Joanne) stay two
    assert name_relation(("johanna", "johanna"), ("joanne", "joanne"), counts) == DIFFERENT
    # short names have no letters to spare for two edits
    assert name_relation(("jamse", "jamse"), ("jaems", "jaems"), counts) == DIFFERENT


def test_a_name_two_typos_away_merges_on_a_shared_email() -> None:
    rows = guard_records(
        person("a", "thomas", birth_date=D1, email_key="t@x.com"),
        person("b", "tohams", birth_date=D1, email_key="t@x.com"),
    )
    result, decisions = cluster_records(rows, pairs(("a", "b", 0.99)), 0.7)
    assert customers(result)["a"] == customers(result)["b"]
    assert decisions.refused_first_name == 0


def test_a_typo_of_a_nickname_is_the_same_first_name() -> None:
    from c360.identity.clustering import DIFFERENT, TYPO, name_relation

    counts = {"robert": 500, "bob": 80, "bvob": 1, "dan": 40, "donald": 200, "don": 30}
    assert name_relation(("bvob", "bvob"), ("robert", "robert"), counts) == TYPO  # Bob
    assert name_relation(("robert", "robert"), ("bvob", "bvob"), counts) == TYPO
    # Dan is a name (Daniel's nickname), not a typo of Don (Donald's)
    assert name_relation(("dan", "daniel"), ("donald", "donald"), counts) == DIFFERENT
    rows = guard_records(
        person("a", "robert", birth_date=D1, email_key="rob@x.com"),
        person("b", "bvob", email_key="rob@x.com", phone_e164="+1"),
    )
    ids = customers(cluster_records(rows, pairs(("a", "b", 0.99)), 0.7)[0])
    assert ids["a"] == ids["b"]


def test_the_nickname_table_is_the_seed_and_a_bad_one_is_named(tmp_path, monkeypatch) -> None:
    from c360.identity import clustering

    assert "bob" in clustering.nicknames()["robert"]
    bad = tmp_path / "nicknames.csv"
    bad.write_text("nick,formal\nbob,robert\n")
    for path, error in ((tmp_path / "missing.csv", FileNotFoundError), (bad, ValueError)):
        monkeypatch.setattr(clustering, "NICKNAMES_SEED", path)
        clustering.nicknames.cache_clear()
        with pytest.raises(error, match=re.escape(str(path))):
            clustering.nicknames()
    monkeypatch.undo()
    clustering.nicknames.cache_clear()


def test_twins_dan_and_donald_on_a_family_email_stay_apart() -> None:
    # each twin with a phone of their own; were Dan a typo of Don (Donald's nickname), the
    # shared family email would merge them
    rows = guard_records(
        {
            **person("dan", "dan", birth_date=D1, email_key="family@x.com", phone_e164="+1"),
            "first_name_canonical": "daniel",
        },
        person("don", "donald", birth_date=D1, email_key="family@x.com", phone_e164="+2"),
    )
    result, decisions = cluster_records(rows, pairs(("dan", "don", 0.99)), 0.7)
    assert customers(result)["dan"] != customers(result)["don"]
    assert decisions.refused_first_name == 1


def test_a_birth_date_typo_merges_when_name_and_address_agree_whatever_the_contacts() -> None:
    # the same John at the same address, his date typed with one digit wrong on a record
    # that carries his other phone
    rows = guard_records(
        person("a", "john", birth_date=dt.date(1990, 2, 13), phone_e164="+1"),
        person("b", "john", birth_date=dt.date(1990, 2, 18), phone_e164="+2"),
    )
    result, decisions = cluster_records(rows, pairs(("a", "b", 0.95)), 0.7)
    assert customers(result)["a"] == customers(result)["b"]
    assert decisions.refused_birth_date == 0


def test_a_birth_date_typo_with_own_contacts_elsewhere_is_another_person() -> None:
    rows = guard_records(
        person("a", "john", birth_date=dt.date(1990, 2, 13), phone_e164="+1"),
        person(
            "b",
            "john",
            birth_date=dt.date(1990, 2, 18),
            phone_e164="+2",
            street_key="9 oak ave",
            postal_code_key="94105",
        ),
    )
    result, decisions = cluster_records(rows, pairs(("a", "b", 0.95)), 0.7)
    assert customers(result)["a"] != customers(result)["b"]
    assert decisions.refused_birth_date == 1


def test_a_third_spelling_joins_the_closest_of_a_persons_tied_spellings() -> None:
    # Paul and Payl, one record each, are one person; Palu is one edit from Paul (two from
    # Payl): a third typo of the same name, not another person
    rows = guard_records(
        person("a1", "paul", birth_date=D1, email_key="p@x.com"),
        person("a2", "payl", birth_date=D1, email_key="p@x.com"),
        person("b", "palu", email_key="p@x.com"),
    )
    edges = pairs(("a1", "a2", 0.999), ("a1", "b", 0.98), ("a2", "b", 0.98))
    for split in (True, False):  # the fast path and the edge-by-edge pass agree
        ids = customers(cluster_records(rows, edges, 0.7, split_components=split)[0])
        assert ids["a1"] == ids["a2"] == ids["b"]


def test_spellings_linked_by_typos_are_one_name_in_any_merge_order() -> None:
    # James, Jaames and Jamse, one record each: Jamse and Jaames are two edits apart (short
    # names: no typo) but both typos of James, so the three are one name, and a second
    # Jamse record joins them, as the online resolve, comparing with all three at once,
    # finds it does
    rows = guard_records(
        person("a", "james", email_key="j@x.com"),
        person("b", "jaames", email_key="j@x.com"),
        person("c", "jamse", email_key="j@x.com"),
        person("d", "jamse", email_key="j@x.com"),
    )
    edges = pairs(("a", "b", 0.999), ("a", "c", 0.998), ("c", "d", 0.9), ("b", "d", 0.9))
    ids = customers(cluster_records(rows, edges, 0.7, split_components=False)[0])
    assert ids["a"] == ids["b"] == ids["c"] == ids["d"]


def test_a_household_member_stays_apart_from_a_persons_tied_spellings() -> None:
    # Mary's two records (Mary, Mray) and her twin Anna on the family email, each twin
    # with her own phone
    rows = guard_records(
        person("m1", "mary", birth_date=D1, email_key="family@x.com", phone_e164="+1"),
        person("m2", "mray", birth_date=D1, email_key="family@x.com", phone_e164="+1"),
        person("anna", "anna", birth_date=D1, email_key="family@x.com", phone_e164="+2"),
    )
    edges = pairs(("m1", "m2", 0.999), ("m1", "anna", 0.98), ("m2", "anna", 0.98))
    ids = customers(cluster_records(rows, edges, 0.7)[0])
    assert ids["m1"] == ids["m2"] != ids["anna"]


# --- scoring: typo-tolerant blocking and comparisons ------------------------------------

FIRST = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "nancy",
    "daniel",
    "lisa",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
]


def population(persons: int, seed: int, duplicates: float = 0.5) -> pa.Table:
    """Person records of `persons` people (Zipf-ish names, one address each); a share have a
    second record with a typo in one field, so EM has matches to learn from."""
    rng = random.Random(seed)
    rows = []
    for i in range(persons):
        first = FIRST[min(int(rng.paretovariate(1.2)) - 1, len(FIRST) - 1)]
        base = {
            "person_record_id": f"pop:{i}",
            "first_name_key": first,
            "first_name_canonical": first,
            "last_name_key": LAST[min(int(rng.paretovariate(1.1)) - 1, len(LAST) - 1)],
            "email_key": f"p{i}@mail.com" if rng.random() < 0.7 else None,
            "phone_e164": f"+1555{i:07d}" if rng.random() < 0.5 else None,
            "birth_date": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60)),
            "postal_code_key": str(10000 + rng.randrange(300)),
            "street_number": str(rng.randrange(1, 999)),
            "street_name_key": rng.choice(["main st", "oak ave", "pine rd", "elm st", "hill dr"]),
        }
        base["postal_code"] = base["postal_code_key"]
        base["street_key"] = f"{base['street_number']} {base['street_name_key']}"
        rows.append(base)
        if rng.random() < duplicates:
            twin = {**base, "person_record_id": f"pop:{i}:dup"}
            field = rng.choice(["first", "email", "birth", "postal", "street"])
            if field == "first":
                name = twin["first_name_key"]
                j = rng.randrange(1, len(name))
                twin["first_name_key"] = twin["first_name_canonical"] = name[:j] + name[j + 1 :]
            elif field == "email":
                twin["email_key"] = None
            elif field == "birth":
                twin["birth_date"] = None
            elif field == "postal":
                twin["postal_code_key"] = twin["postal_code"] = None
            else:
                twin["street_key"] = twin["street_number"] = twin["street_name_key"] = None
            rows.append(twin)
    return person_records(*rows)


def test_blocking_and_comparisons_reach_pairs_with_typos_in_every_field() -> None:
    background = population(1500, seed=1)
    jacinta = {
        "person_record_id": "t:1",
        "first_name_key": "jacinta",
        "first_name_canonical": "jacinta",
        "last_name_key": "hoffman",
        "birth_date": dt.date(1932, 4, 17),
        "postal_code": "02134",
        "postal_code_key": "2134",
        "street_key": "4 marrakai st",
        "street_number": "4",
        "street_name_key": "marrakai st",
    }
    planted = [
        # a short first name with one letter wrong, sharing an email and the address
        (
            {
                **jacinta,
                "person_record_id": "t:2",
                "first_name_key": "mark",
                "first_name_canonical": "mark",
                "email_key": "mh@x.com",
            },
            {
                **jacinta,
                "person_record_id": "t:3",
                "first_name_key": "mrrk",
                "first_name_canonical": "mrrk",
                "email_key": "mh@x.com",
            },
        ),
        # first name typo after the third letter, a postal code typed without its zero, no
        # birth date on one side, no email, no phone: only name prefixes + postal code hold
        (
            jacinta,
            {
                **jacinta,
                "person_record_id": "t:4",
                "first_name_key": "jacynta",
                "first_name_canonical": "jacynta",
                "postal_code": "2134",
                "birth_date": None,
            },
        ),
        # a birth date with one digit wrong and a street typo: blocked by name + house number
        (
            {**jacinta, "person_record_id": "t:5", "last_name_key": "osfield"},
            {
                **jacinta,
                "person_record_id": "t:6",
                "last_name_key": "osfield",
                "birth_date": dt.date(1932, 4, 11),
                "street_key": "4 marakai st",
                "street_name_key": "marakai st",
                "postal_code_key": "2143",
            },
        ),
        # first and last name swapped
        (
            {
                **jacinta,
                "person_record_id": "t:7",
                "first_name_key": "quinn",
                "first_name_canonical": "quinn",
                "last_name_key": "ashby",
            },
            {
                **jacinta,
                "person_record_id": "t:8",
                "first_name_key": "ashby",
                "first_name_canonical": "ashby",
                "last_name_key": "quinn",
            },
        ),
    ]
    rows = [record for pair in planted for record in pair]
    scored = score_pairs(pa.concat_tables([background, person_records(*rows)]))
    for left, right in planted:
        assert probability(scored, left["person_record_id"], right["person_record_id"]) >= 0.7, (
            left["person_record_id"],
            right["person_record_id"],
        )


def test_a_numbered_email_handle_is_blocked_and_compared_by_its_column() -> None:
    """Two records sharing only a numbered handle at two providers (email_handle, as macro
    email_handle computes it) are blocked together and reach the handle level, by plain
    equality on the column; a handle without a number is NULL there and no evidence: the
    same two names with info@ at two providers are never compared."""
    background = population(300, seed=2)
    james = {"first_name_key": "james", "first_name_canonical": "james", "last_name_key": "smith"}
    ann = {"first_name_key": "ann", "first_name_canonical": "ann", "last_name_key": "leeford"}
    rows = [
        {**james, "person_record_id": "h:1", "email_key": "james_smith.15984@yahoo.com"},
        {**james, "person_record_id": "h:2", "email_key": "jamessmith15984@aol.com"},
        {**ann, "person_record_id": "h:3", "email_key": "info@shop.example"},
        {**ann, "person_record_id": "h:4", "email_key": "info@other.example"},
    ]
    for row, handle, postal_code in zip(
        rows, ["jamessmith15984", "jamessmith15984", None, None], ["1001", "9901"] * 2, strict=True
    ):
        row.update(email_handle=handle, postal_code=postal_code, postal_code_key=postal_code)
    scored = score_pairs(pa.concat_tables([background, person_records(*rows)]), threshold=0.0)
    found = {
        frozenset((r["person_record_id_l"], r["person_record_id_r"])): r
        for r in scored.to_pylist()
        if r["person_record_id_l"].startswith("h:") and r["person_record_id_r"].startswith("h:")
    }
    assert set(found) == {frozenset(("h:1", "h:2"))}
    assert (
        "Same numbered handle, other address"
        in found[frozenset(("h:1", "h:2"))]["comparison_levels"]
    )


def test_blocking_report_counts_comparisons_per_record() -> None:
    from c360.identity.blocking import blocking_report

    records = population(400, seed=2)
    report = blocking_report(records)
    assert [row["rule"] for row in report][:2] == ["email", "phone"]
    cumulative = [row["cumulative_comparisons"] for row in report]
    assert cumulative == sorted(cumulative) and cumulative[-1] > 0
    assert all(row["largest_block"] >= 0 for row in report)
    assert report[-1]["cumulative_per_record"] == cumulative[-1] / records.num_rows


# --- training on the user's own records --------------------------------------------------


def without(table: pa.Table, *columns: str) -> pa.Table:
    """`table` with every value of `columns` NULL (an export that lacks them)."""
    for column in columns:
        i = table.column_names.index(column)
        table = table.set_column(i, column, pa.nulls(table.num_rows, table.schema.field(i).type))
    return table


def test_training_picks_rules_from_the_identifiers_present(tmp_path) -> None:
    from c360.identity.train import train

    records = without(population(600, seed=3), "email_key", "phone_e164")
    model, report = train(records, tmp_path / "model.json")
    training = {choice.rule.name: choice for choice in report.training_rules}
    assert not training["email"].used and "no data in email_key" in training["email"].reason
    assert training["first name + last name"].used and training["birth date"].used
    assert not training["postal code"].used  # a household identifier, and not needed
    assert set(report.comparisons_dropped) == {"email_key", "phone_e164"}
    compared = {c["output_column_name"] for c in model["comparisons"]}
    assert "email_key" not in compared and "birth_date" in compared
    rules = " ".join(r["blocking_rule"] for r in model["blocking_rules_to_generate_predictions"])
    assert "email_key" not in rules and "birth_date" in rules
    # the model scores the records it was trained on
    assert score_pairs(records, model_path=tmp_path / "model.json").num_rows > 0


def test_training_without_birth_dates_uses_a_household_rule_only_to_train_names(tmp_path) -> None:
    from c360.identity.train import train

    records = without(population(600, seed=4), "birth_date")
    _, report = train(records, tmp_path / "model.json")
    used = [choice.rule.name for choice in report.training_rules if choice.used]
    # first + last name fixes both name comparisons; email trains them
    assert used == ["first name + last name", "email"]
    records = without(records, "email_key")
    _, report = train(records, tmp_path / "model.json")
    used = [choice.rule.name for choice in report.training_rules if choice.used]
    assert used == ["first name + last name", "phone"]


def test_training_is_deterministic(tmp_path) -> None:
    from c360.identity.train import train

    records = population(500, seed=5)
    train(records, tmp_path / "a.json")
    train(records.take(list(reversed(range(records.num_rows)))), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_training_never_crashes_on_records_with_almost_nothing(tmp_path) -> None:
    from c360.identity.train import train

    records = without(
        population(200, seed=6), "email_key", "phone_e164", "birth_date", "street_key"
    )
    model, _ = train(records, tmp_path / "model.json")
    assert {c["output_column_name"] for c in model["comparisons"]} >= {"first_name"}
    empty = without(
        records, "first_name_key", "first_name_canonical", "last_name_key", "postal_code_key"
    )
    try:
        train(empty, tmp_path / "none.json")
    except ValueError as error:
        assert "no comparison has data" in str(error)
    else:
        raise AssertionError("training on records without any identifier must say so")


def test_u_of_an_email_is_counted_over_pairs_of_different_people() -> None:
    from c360.identity.splink_settings import comparisons
    from c360.identity.train import different_people_u

    saved = {c.create_comparison_dict("duckdb")["output_column_name"]: c for c in comparisons()}
    email = saved["email_key"].create_comparison_dict("duckdb")
    phone = saved["phone_e164"].create_comparison_dict("duckdb")

    def person(
        rid: str, first: str, born: dt.date | None, email: str, handle: str | None = None
    ) -> dict:
        return {
            "person_record_id": rid,
            "first_name_canonical": first,
            "birth_date": born,
            "email_key": email,
            "email_handle": handle,  # as macro email_handle computes it
        }

    rows = person_records(
        # one person's two records share her email: a match, not evidence about u
        person("a1", "ann", D1, "ann@x.com"),
        person("a2", "ann", D1, "ann@x.com"),
        # a couple sharing a family email: different people at the exact level
        person("b1", "bob", dt.date(1970, 2, 2), "family@x.com"),
        person("c1", "cat", dt.date(1975, 3, 3), "family@x.com"),
        person("d1", "dan", dt.date(1990, 4, 4), "dan@x.com"),
        # different people with one numbered handle at two providers
        person("f1", "fay", dt.date(1980, 5, 5), "kim.lee77@a.com", "kimlee77"),
        person("g1", "gus", dt.date(1981, 6, 6), "kimlee77@b.com", "kimlee77"),
        # without a birth date nobody can say who this is: left out of the count
        person("e1", "eve", None, "family@x.com"),
    )
    # 21 pairs among the 7 countable records, less ann with herself: 20 of different people
    assert different_people_u(rows, email, min_pairs=1) == ([1 / 20, 1 / 20, 18 / 20], 2)
    assert different_people_u(rows, email, min_pairs=3) is None
    assert different_people_u(rows, phone, min_pairs=1) is None


def test_training_counts_email_u_instead_of_sampling_it(tmp_path) -> None:
    from c360.identity.train import train

    # households of two different people sharing an email, beside each person's own records
    records = population(600, seed=8)
    rows = records.to_pylist()
    for i in range(0, 120, 2):
        rows[i + 1]["email_key"] = rows[i]["email_key"] = f"family{i}@mail.com"
    model, report = train(person_records(*rows), tmp_path / "model.json")
    sampled, counted, pairs = report.counted_u["email_key"]
    assert pairs >= 10 and counted < sampled
    email = next(c for c in model["comparisons"] if c["output_column_name"] == "email_key")
    exact, handle, _ = email["comparison_levels"][1:]
    assert exact["u_probability"] == counted
    # no two different people share a numbered handle here: one pair's share
    assert 0 < handle["u_probability"] < counted
    assert sum(lv["u_probability"] for lv in email["comparison_levels"][1:]) == pytest.approx(1)


def test_reviewers_labels_estimate_m(tmp_path) -> None:
    from c360.identity.train import train

    records = population(500, seed=7)
    ids = records.column("person_record_id").to_pylist()
    duplicates = [(i.removesuffix(":dup"), i) for i in ids if i.endswith(":dup")]
    labels = pa.table(
        {
            "person_record_id_l": [a for a, _ in duplicates],
            "person_record_id_r": [b for _, b in duplicates],
        }
    )
    plain, report = train(records, tmp_path / "plain.json")
    assert report.labelled_pairs == 0
    labelled, report = train(records, tmp_path / "labelled.json", labels)
    assert report.labelled_pairs == len(duplicates) > 50
    assert plain["comparisons"] != labelled["comparisons"]


def test_m_floor_never_makes_an_unseen_level_evidence_for_a_match() -> None:
    from c360.identity.train import smooth_m_probabilities

    model = {
        "comparisons": [
            {
                "comparison_levels": [
                    {"is_null_level": True},
                    {"m_probability": 0.98, "u_probability": 0.01},
                    {"u_probability": 0.00001},  # never seen among matches, rare overall
                    {"m_probability": 1e-9, "u_probability": 0.3},  # a disagreement
                    {"m_probability": 0.02},  # never reached by random sampling
                ]
            }
        ]
    }
    levels = smooth_m_probabilities(model)["comparisons"][0]["comparison_levels"][1:]
    assert levels[1]["m_probability"] <= levels[1]["u_probability"] * 1.01
    assert 0.0009 < levels[2]["m_probability"] < 0.0011  # floored, weight about -8
    assert levels[3]["u_probability"] == levels[3]["m_probability"]


def test_model_coverage_flags_identifiers_the_model_and_the_records_disagree_on() -> None:
    import json

    from c360.identity.scoring import MODEL_PATH, model_coverage

    model = json.loads(MODEL_PATH.read_text())
    presence = {
        "first_name_key": 10,
        "last_name_key": 10,
        "email_key": 0,
        "phone_e164": 1,
        "birth_date": 10,
        "postal_code_key": 10,
        "street_key": 10,
    }
    status = {
        row["identifier"]: row["coverage_status"]
        for row in model_coverage(presence, model).to_pylist()
    }
    assert status["email_key"] == status["phone_e164"] == "no_data"
    assert status["birth_date"] == "compared"
    model["comparisons"] = [
        c for c in model["comparisons"] if c["output_column_name"] != "street_key"
    ]
    status = {
        row["identifier"]: row["coverage_status"]
        for row in model_coverage(presence, model).to_pylist()
    }
    assert status["street_key"] == "not_compared"


def test_label_metrics_count_decisions_on_labelled_pairs() -> None:
    from c360.identity.evaluate import label_metrics

    clusters = {"a": "c1", "b": "c1", "c": "c2", "d": "c2", "e": "c3"}
    labels = [("a", "b", True), ("c", "e", True), ("c", "d", False), ("a", "e", False)]
    metrics = label_metrics(clusters, labels)
    assert metrics["labelled_pairs"] == 4 and metrics["same_person"] == 2
    assert metrics["precision"] == 0.5 and metrics["recall"] == 0.5


def test_a_spouse_born_one_digit_apart_is_two_differences() -> None:
    # the Fox household: other first name and a birth date one digit from the partner's
    rows = guard_records(
        person("fay", "fay", birth_date=dt.date(1980, 1, 1), email_key="family@x.com"),
        person("gus", "gus", birth_date=dt.date(1982, 1, 1), email_key="family@x.com"),
    )
    result, decisions = cluster_records(rows, pairs(("fay", "gus", 0.99)), 0.7)
    assert customers(result)["fay"] != customers(result)["gus"]
    assert decisions.refused_first_name == 1


# Each of these first names is carried by many records (the frozen counts a build passes):
# names in their own right, not a typo of one another.
COMMON_NAMES = {
    "louis": 40,
    "louise": 35,
    "paul": 60,
    "paula": 30,
    "daniel": 80,
    "danielle": 25,
    "jon": 50,
    "sarah": 70,
    "bjorn": 20,
    "bjoern": 12,
}


@pytest.mark.parametrize(
    ("boy", "girl"),
    [("louis", "louise"), ("paul", "paula"), ("daniel", "danielle"), ("alexander", "alexandra")],
)
def test_boy_and_girl_twins_with_similar_names_stay_apart(boy: str, girl: str) -> None:
    # same birth date, same address and last name, the family's email and phone on both:
    # Jaro-Winkler finds the names alike, but each is a name many people carry (Alexander
    # and Alexandra are both in the nickname table), so they are two people, not a typo
    rows = guard_records(
        person("a", boy, birth_date=D1, email_key="family@x.com", phone_e164="+1"),
        person("b", girl, birth_date=D1, email_key="family@x.com", phone_e164="+1"),
    )
    assert jaro_winkler(boy, girl) >= 0.92
    for split in (True, False):  # the fast path sends them to the guards
        result, decisions = cluster_records(
            rows, pairs(("a", "b", 0.99)), 0.7, split_components=split, name_counts=COMMON_NAMES
        )
        assert customers(result)["a"] != customers(result)["b"]
        assert decisions.refused_first_name == 1
    assert not names_compatible({boy}, {girl}, COMMON_NAMES)


def test_twins_louis_and_louise_stay_apart_with_counts_from_the_records() -> None:
    # no frozen counts: the records themselves show both names common
    population = [
        person(f"{name}{i}", name, birth_date=dt.date(1960 + i, 1, 1), last_name_key=f"x{i}")
        for name in ("louis", "louise")
        for i in range(4)
    ]
    rows = guard_records(
        *population,
        person("a", "louis", birth_date=D1, email_key="family@x.com"),
        person("b", "louise", birth_date=D1, email_key="family@x.com"),
    )
    for split in (True, False):
        ids = customers(
            cluster_records(rows, pairs(("a", "b", 0.99)), 0.7, split_components=split)[0]
        )
        assert ids["a"] != ids["b"]


@pytest.mark.parametrize(
    ("name", "typo"),
    [("jon", "jonn"), ("sarah", "sarha"), ("paul", "paull"), ("bjorn", "bjoern")],
)
def test_a_typo_of_a_common_name_still_joins(name: str, typo: str) -> None:
    # the typo is rare beside the name (Jonn, Sarha on one record), or the name spelled
    # with its umlaut written out (Bjoern: staging folds ö to o, a keyboard without it
    # types oe): one name, as before
    rows = guard_records(
        person("a", name, birth_date=D1, email_key="p@x.com"),
        person("b", typo, birth_date=D1, email_key="p@x.com"),
    )
    for split in (True, False):
        result, decisions = cluster_records(
            rows, pairs(("a", "b", 0.99)), 0.7, split_components=split, name_counts=COMMON_NAMES
        )
        assert customers(result)["a"] == customers(result)["b"]
        assert decisions.refused_first_name == 0


def test_similar_names_in_their_own_right_are_different_unless_switched_off() -> None:
    from dataclasses import replace

    from c360.identity.clustering import ALL_RULES, DIFFERENT, SAME, name_relation

    louis, louise = ("louis", "louis"), ("louise", "louise")
    assert name_relation(louis, louise, COMMON_NAMES) == DIFFERENT
    assert name_relation(louis, ("louiss", "louiss"), COMMON_NAMES) == SAME  # a rare spelling
    off = replace(ALL_RULES, similar_names_differ=False)
    assert name_relation(louis, louise, COMMON_NAMES, off) == SAME
    assert names_compatible({"jennifer"}, {"jenifer"}, {"jennifer": 90, "jenifer": 2})
