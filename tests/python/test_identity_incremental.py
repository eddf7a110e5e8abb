"""The pure logic of the incremental identity step (c360.identity.incremental): what changed,
which components it touches, and that scoring and clustering only those equals doing all."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from c360.identity.clustering import GUARD_COLUMNS
from c360.identity.incremental import (
    CHANGES_TABLE,
    CLUSTERED_SCHEMA,
    FINGERPRINT_COLUMNS,
    affected_records,
    affected_sql,
    cluster_step,
    compute_frequencies,
    edge_digests,
    frequencies_refresh_reason,
    name_counts,
    partner_digests,
    read_changes,
    record_changes,
    scored_before,
    stable_mask,
    tf_lookups,
    unstable_sql,
)
from c360.identity.scoring import (
    MATCH_COLUMNS,
    MODEL_PATH,
    blocking_partners_sql,
    score_new_pairs,
    score_pairs,
    symmetric_rule,
)
from conftest import PROJECT_DIR
from test_identity import population

ids = pa.array


def test_stable_records_are_those_stored_with_the_same_fingerprint() -> None:
    stable = stable_mask(
        ids(["a", "b", "c"]), ids(["1", "2", "3"]), ids(["c", "b", "gone"]), ids(["3", "x", "9"])
    )
    assert stable.tolist() == [False, False, True]  # a new, b changed, c stable


def test_the_fingerprint_model_covers_every_compared_and_guarded_column() -> None:
    sql = (
        PROJECT_DIR / "models/intermediate/identity/int_person_records_fingerprinted.sql"
    ).read_text()
    listed = re.search(r"fingerprint_columns = \[(.*?)\]", sql, re.DOTALL).group(1)
    assert sorted(re.findall(r"'(\w+)'", listed)) == FINGERPRINT_COLUMNS


def test_the_duckdb_fingerprint_tells_null_from_empty_and_which_column_changed() -> None:
    # macro row_fingerprint on DuckDB, as it renders: cast(hash(columns...) as varchar)
    macro = (PROJECT_DIR / "macros/portability/row_fingerprint.sql").read_text()
    assert "duckdb__row_fingerprint" in macro and "cast(hash({{ columns" in macro
    rows = [("a", "b"), ("a", None), ("a", ""), (None, "a"), ("b", "a"), ("a", "b")]
    con = duckdb.connect()
    con.register("records", pa.table({"x": [r[0] for r in rows], "y": [r[1] for r in rows]}))
    found = [
        row[0] for row in con.sql("select cast(hash(x, y) as varchar) from records").fetchall()
    ]
    assert len(set(found[:5])) == 5  # NULL, '' and swapped values all differ
    assert found[5] == found[0]
    # the same on another connection: a stored fingerprint is compared in a later build
    again = duckdb.connect().sql("select cast(hash('a', 'b') as varchar)").fetchall()[0][0]
    assert again == found[0]


def test_edge_digests_change_with_a_partner_or_its_kind_not_with_order() -> None:
    one = edge_digests(["a", "b", "c"], [("a", "b")], [("a", "c")], []).to_pylist()
    again = edge_digests(["a", "b", "c"], [("b", "a")], [("c", "a")], []).to_pylist()
    assert one == again
    assert one[2] != ""
    as_cannot = edge_digests(["a", "b", "c"], [("a", "b")], [], [("a", "c")]).to_pylist()
    assert as_cannot[0] != one[0] and as_cannot[1] == one[1]
    assert edge_digests(["z"], [], [], []).to_pylist() == [""]


def test_affected_records_are_whole_components_old_and_new() -> None:
    # now: {a, b, n} (n new joined a), {c, d}, {e}; before: {a, b}, {c, d, e} (e split off
    # because x, which held them together, is gone), {f, g} untouched
    component = ids(["a", "a", "c", "c", "e", "f", "f", "a"])
    names = ["a", "b", "c", "d", "e", "f", "g", "n"]
    previous = ids(["a", "a", "c", "c", "c", "f", "f", None])
    seeds = np.array([n == "n" for n in names])
    affected = affected_records(component, seeds, previous, removed_components=ids(["c"]))
    assert [n for n, hit in zip(names, affected, strict=True) if hit] == [
        "a",
        "b",
        "c",
        "d",
        "e",
        "n",
    ]
    # nothing changed: nothing affected
    none = affected_records(component, np.zeros(8, bool), previous, ids([], pa.string()))
    assert not none.any()


def seeds_of(con, changes: str) -> list[tuple[str, bool]]:
    edges = "(select 'x' as person_record_id_l, 'y' as person_record_id_r where false)"
    return sorted(con.sql(affected_sql("state", "digests", edges, changes)).fetchall())


def test_unstable_records_are_new_changed_gone_or_scored_and_gone_since() -> None:
    con = duckdb.connect()
    # a stable, b changed, c new, d gone, e stable; f was scored new by a stopped build
    # and is gone from both since, g was scored new by a build that clustered it
    con.register(
        "records",
        pa.table(
            {"person_record_id": ["a", "b", "c", "e", "g"], "record_fingerprint": list("12357")}
        ),
    )
    con.register(
        "state",
        pa.table(
            {"person_record_id": ["a", "b", "d", "e", "g"], "record_fingerprint": list("1x457")}
        ),
    )
    con.register("scored", pa.table({"person_record_id": ["c", "f", "g", None]}))
    found = sorted(con.sql(unstable_sql("records", "state")).fetchall())
    assert found == [("b", True), ("c", True), ("d", False)]
    with_scored = sorted(
        con.sql(unstable_sql("records", "state", "select person_record_id from scored")).fetchall()
    )
    assert with_scored == [*found, ("f", False)]


def test_affected_records_are_the_changed_records_and_their_components() -> None:
    con = duckdb.connect()
    # a stable, b changed, c new, d gone, e stable; a's edge digest changed, e's did not;
    # f shares d's component, g shares a's, h is alone
    con.register(
        "records",
        pa.table(
            {
                "person_record_id": ["a", "b", "c", "e", "f", "g", "h"],
                "record_fingerprint": list("1235678"),
            }
        ),
    )
    state = pa.table(
        {
            "person_record_id": ["a", "b", "d", "e", "f", "g", "h"],
            "record_fingerprint": ["1", "x", "4", "5", "6", "7", "8"],
            "edge_digest": ["", "", "", "k", "", "", ""],
            "identity_component": ["a", "b", "d", "e", "d", "a", "h"],
        }
    )
    con.register("state", state)
    con.register("digests", pa.table({"person_record_id": ["a", "e"], "edge_digest": ["j", "k"]}))
    con.execute(f"create table changes as {unstable_sql('records', 'state')}")
    assert seeds_of(con, "changes") == [
        ("a", True),
        ("b", True),
        ("c", True),
        ("f", False),
        ("g", False),
    ]


def test_changes_are_read_only_by_the_build_that_recorded_them() -> None:
    con = duckdb.connect()
    con.execute("create schema s")
    this = SimpleNamespace(
        database=con.sql("select current_database()").fetchall()[0][0], schema="s"
    )
    assert read_changes(con, this, "b1") is None  # none recorded
    assert scored_before(con, this) is None
    con.register("found", pa.table({"person_record_id": ["r1", "r2"], "is_present": [True, False]}))
    record_changes(con, this, "select person_record_id, is_present from found", "b1")
    query = read_changes(con, this, "b1")
    assert sorted(con.sql(query).fetchall()) == [("r1", True), ("r2", False)]
    assert read_changes(con, this, "b2") is None  # an earlier build's: compare again
    # but a later build's scoring still learns which records it scored
    assert sorted(con.sql(scored_before(con, this)).fetchall()) == [("r1",), ("r2",)]
    # nothing changed is still this build's record
    record_changes(con, this, "select * from found where false", "b2")
    assert con.sql(read_changes(con, this, "b2")).fetchall() == []
    assert con.sql(f"select count(*) from s.{CHANGES_TABLE}").fetchall() == [(1,)]


def guarded(table: pa.Table) -> pa.Table:
    """The population's records as the clustering model reads them, fingerprinted."""
    records = table.select(GUARD_COLUMNS).sort_by("person_record_id")
    text = pc.binary_join_element_wise(
        *[pc.fill_null(pc.cast(records.column(c), pa.string()), "~") for c in GUARD_COLUMNS], "|"
    )
    return records.append_column("record_fingerprint", text)


def apply(stored: pa.Table, rows: pa.Table, delete: pa.Array | None) -> pa.Table:
    """What the model's append leaves in its table: stored minus deleted, plus rows."""
    if delete is None:
        return rows
    kept = stored.filter(pc.invert(pc.is_in(stored.column("person_record_id"), value_set=delete)))
    return pa.concat_tables([kept, rows]).sort_by("person_record_id")


def test_scoring_and_clustering_only_what_changed_equals_doing_everything() -> None:
    everyone = population(600, seed=7)
    frequencies = compute_frequencies(everyone, MODEL_PATH, "v1")
    tf = tf_lookups(frequencies, everyone.schema)
    counts = name_counts(frequencies)
    late = pc.is_in(
        everyone.column("person_record_id"),
        value_set=ids([f"pop:{i}:dup" for i in range(0, 600, 7)] + ["pop:599", "pop:598"]),
    )
    early = everyone.filter(pc.invert(late))
    # a record that changes (its email), one that goes, a must-link added between builds
    changed = early.column("person_record_id")[5].as_py()
    gone = early.column("person_record_id")[9].as_py()
    email = pc.if_else(
        pc.equal(everyone.column("person_record_id"), changed),
        pa.scalar("changed@mail.com"),
        everyone.column("email_key"),
    )
    now = everyone.set_column(MATCH_COLUMNS.index("email_key"), "email_key", email).filter(
        pc.not_equal(everyone.column("person_record_id"), gone)
    )
    must = [("pop:1", "pop:2")]

    def step(records, pairs, previous, must_link):
        return cluster_step(
            guarded(records),
            pairs,
            previous,
            version="v1",
            build_id="b",
            threshold=0.7,
            max_cluster_size=50,
            deterministic=[],
            must_link=must_link,
            cannot_link=[],
            name_counts=counts,
        )

    before_pairs = score_pairs(early, tf_tables=tf)
    before, _, _ = step(early, before_pairs, None, [])

    current = guarded(now)
    stable = stable_mask(
        current.column("person_record_id").combine_chunks(),
        current.column("record_fingerprint").combine_chunks(),
        before.column("person_record_id").combine_chunks(),
        before.column("record_fingerprint").combine_chunks(),
    )
    stable_ids = current.column("person_record_id").filter(pa.array(stable))
    is_stable = pc.is_in(now.column("person_record_id"), value_set=stable_ids)
    # the late records and the changed one are new; the gone one is not among them
    late_ids = everyone.column("person_record_id").filter(late).to_pylist()
    unstable = current.column("person_record_id").filter(pa.array(~stable)).to_pylist()
    assert sorted(unstable) == sorted([changed, *late_ids])
    kept = before_pairs.filter(
        pc.and_(
            pc.is_in(before_pairs.column("person_record_id_l"), value_set=stable_ids),
            pc.is_in(before_pairs.column("person_record_id_r"), value_set=stable_ids),
        )
    )
    new = now.filter(pc.invert(is_stable))
    added = score_new_pairs(now.filter(is_stable), new, tf)
    incremental_pairs = pa.concat_tables([kept, added])
    full_pairs = score_pairs(now, tf_tables=tf)

    def keyed(table):
        return sorted(zip(*[table.column(c).to_pylist() for c in table.column_names], strict=True))

    assert keyed(incremental_pairs) == keyed(full_pairs)

    # the model scores new records only against the stable ones sharing a blocking key
    # with one of them, selected in SQL: fewer records, the same pairs
    con = duckdb.connect()
    con.register("stable_records", now.filter(is_stable))
    con.register("new_records", new)
    partners = (
        con.sql(
            "select * from stable_records where person_record_id in"
            f" ({blocking_partners_sql(MODEL_PATH, 'stable_records', 'new_records')})"
        )
        .arrow()
        .read_all()
    )
    assert 0 < partners.num_rows < now.filter(is_stable).num_rows
    assert keyed(score_new_pairs(partners, new, tf)) == keyed(added)

    rows, delete, stats = step(now, incremental_pairs, before, must)
    assert 0 < stats["reclustered"] < now.num_rows / 2
    incremental = apply(before, rows, delete)
    full, _, _ = step(now, full_pairs, None, must)
    assert incremental.schema == CLUSTERED_SCHEMA
    assert incremental.to_pylist() == full.to_pylist()

    # the model picks the records to re-cluster in SQL (affected_sql) and clusters only
    # them and their pairs: the same records as cluster_step, the same result
    current = guarded(now)
    con.register("records_now", current)
    con.register("state", before)
    con.register("digests", partner_digests([], must, []))
    con.register("pairs_now", incremental_pairs)
    con.register("must_links", pa.table({"l": [a for a, _ in must], "r": [b for _, b in must]}))
    edges = (
        "(select person_record_id_l, person_record_id_r from pairs_now"
        " where match_probability >= 0.7 and not coalesce(is_contradictory, false)"
        " union all select l, r from must_links)"
    )
    # the records not stable, as scoring finds them: the new and changed ones and the gone
    con.execute(f"create table changes as {unstable_sql('records_now', 'state')}")
    assert sorted(con.sql("select * from changes").fetchall()) == sorted(
        [*((record, True) for record in unstable), (gone, False)]
    )
    picked = con.sql(affected_sql("state", "digests", edges, "changes")).arrow().read_all()
    assert sorted(picked.column("person_record_id").to_pylist()) == sorted(
        rows.column("person_record_id").to_pylist()
    )
    assert pc.sum(picked.column("is_seed")).as_py() == stats["seeds"]
    part_ids = picked.column("person_record_id")
    part = current.filter(pc.is_in(current.column("person_record_id"), value_set=part_ids))
    inside = pc.and_(
        pc.is_in(incremental_pairs.column("person_record_id_l"), value_set=part_ids),
        pc.is_in(incremental_pairs.column("person_record_id_r"), value_set=part_ids),
    )
    part_rows, _, _ = cluster_step(
        part,
        incremental_pairs.filter(inside),
        None,
        version="v1",
        build_id="b",
        threshold=0.7,
        max_cluster_size=50,
        deterministic=[],
        must_link=must,
        cannot_link=[],
        name_counts=counts,
    )
    assert part_rows.to_pylist() == rows.to_pylist()


def test_a_blocking_rule_is_symmetric_only_when_swapping_l_and_r_gives_the_same_conditions() -> (
    None
):
    assert symmetric_rule('l."email_key" = r."email_key"')
    assert symmetric_rule("(substr(l.a, 1, 3) = substr(r.a, 1, 3)) AND (l.b = r.b)")
    # the swapped-name rule: each equality is the other one read the other way round
    assert symmetric_rule(
        "l.first_name_key = r.last_name_key and l.last_name_key = r.first_name_key"
    )
    assert not symmetric_rule("l.first_name_key = r.last_name_key")
    assert not symmetric_rule("l.a = r.a and l.b > r.b")
    # a test of one side only, of what an equality of the rule pins to the other side's
    assert symmetric_rule("f(l.a) = f(r.a) and regexp_matches(f(l.a), '[0-9]')")
    assert not symmetric_rule("f(l.a) = f(r.a) and regexp_matches(l.a, '[0-9]')")
    assert not symmetric_rule("l.a = r.a and regexp_matches(l.b, '[0-9]')")
    assert not symmetric_rule("l.a = r.a and l.b = 'x'")
    assert not symmetric_rule("l.a = = r.a")  # unreadable: both ways round, to be safe


def test_the_blocking_partners_are_those_of_every_rule_both_ways_round(tmp_path: Path) -> None:
    everyone = population(400, seed=11)
    new = everyone.filter(
        pc.equal(pc.utf8_slice_codeunits(everyone["person_record_id"], 4, 5), "1")
    )
    existing = everyone.filter(
        pc.invert(pc.is_in(everyone["person_record_id"], new["person_record_id"]))
    )
    # an existing record whose last name is a new record's first name, and nothing else in
    # common: found by the rule below with the existing record on the right only
    planted = {
        **existing.slice(0, 1).to_pylist()[0],
        **{column: None for column in MATCH_COLUMNS},
        "person_record_id": "plant:existing",
        "first_name_key": "plantfirst",
        "last_name_key": "plantname",
    }
    existing = pa.concat_tables([existing, pa.Table.from_pylist([planted], existing.schema)])
    new = pa.concat_tables(
        [
            new,
            pa.Table.from_pylist(
                [
                    {
                        **planted,
                        "person_record_id": "plant:new",
                        "first_name_key": "plantname",
                        "last_name_key": "plantlast",
                    }
                ],
                new.schema,
            ),
        ]
    )
    con = duckdb.connect()
    con.register("existing_records", existing)
    con.register("new_records", new)
    # the model's rules and one that is not symmetric (a first name equal to the other's
    # last name), which must be joined both ways round
    model = json.loads(MODEL_PATH.read_text())
    model["blocking_rules_to_generate_predictions"].append(
        {"blocking_rule": "l.first_name_key = r.last_name_key", "sql_dialect": "duckdb"}
    )
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    rules = [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]
    assert [symmetric_rule(rule) for rule in rules].count(False) == 1
    both_ways = set()
    for rule in rules:
        for sql in (
            f"select l.person_record_id from existing_records as l join new_records as r on {rule}",
            f"select r.person_record_id from new_records as l join existing_records as r on {rule}",
        ):
            both_ways |= {record for (record,) in con.sql(sql).fetchall()}
    sql = blocking_partners_sql(path, "existing_records", "new_records")
    assert sql.count(" join ") == len(rules) + 1
    assert {record for (record,) in con.sql(sql).fetchall()} == both_ways
    assert "plant:existing" in both_ways
    assert 0 < len(both_ways) < existing.num_rows


def test_a_new_record_scores_as_a_full_predict_scores_it_whichever_key_is_smaller() -> None:
    """The swapped-name levels compare the left record's first name with the right one's
    last name: a pair's score depends on which record is on the left. predict() puts the
    smaller key there; incremental scoring must too, whether the new record's key is the
    smaller or the larger one."""
    base = population(40, seed=3)
    template = base.slice(0, 1).to_pylist()[0]
    older = {
        **template,
        "person_record_id": "m:older",
        "first_name_key": "john",
        "first_name_canonical": "john",
        "last_name_key": "smith",
        "email_key": "shared.inbox@mail.com",
    }
    for new_key in ("a:newer", "z:newer"):
        newer = {
            **older,
            "person_record_id": new_key,
            "first_name_key": "smith",
            "first_name_canonical": "smith",
            "last_name_key": "brown",
        }
        everyone = pa.concat_tables([base, pa.Table.from_pylist([older, newer], base.schema)])
        tf = tf_lookups(compute_frequencies(everyone, MODEL_PATH, "v1"), everyone.schema)
        existing = everyone.filter(pc.not_equal(everyone.column("person_record_id"), new_key))
        added = score_new_pairs(
            existing, everyone.filter(pc.equal(everyone.column("person_record_id"), new_key)), tf
        )
        full = score_pairs(everyone, tf_tables=tf)
        with_new = full.filter(
            pc.or_(
                pc.equal(full.column("person_record_id_l"), new_key),
                pc.equal(full.column("person_record_id_r"), new_key),
            )
        )
        assert sorted(added.to_pylist(), key=str) == sorted(with_new.to_pylist(), key=str)
        pair = [row for row in added.to_pylist() if "m:older" in row.values()]
        assert pair and "swapped" in pair[0]["comparison_levels"]


def test_frozen_frequencies_are_kept_until_the_records_grow_or_the_model_changes(
    tmp_path: Path,
) -> None:
    records = population(200, seed=3)
    stored = compute_frequencies(records, MODEL_PATH, "v1")
    assert set(stored.column("frequency_kind").to_pylist()) == {"splink_tf", "guard_first_name"}
    assert frequencies_refresh_reason(stored, MODEL_PATH, records.num_rows, 0.1) is None
    grown = int(records.num_rows * 1.2)
    assert "grew" in frequencies_refresh_reason(stored, MODEL_PATH, grown, 0.1)
    other = tmp_path / "model.json"
    other.write_text(MODEL_PATH.read_text() + " ")
    assert "model file changed" in frequencies_refresh_reason(stored, other, records.num_rows, 0.1)
    assert frequencies_refresh_reason(stored.slice(0, 0), MODEL_PATH, 1, 0.1) is not None


def test_frozen_tf_tables_decide_the_scores_not_the_records_scored() -> None:
    everyone = population(400, seed=5)
    tf = tf_lookups(compute_frequencies(everyone, MODEL_PATH, "v1"), everyone.schema)
    part = everyone.slice(0, 300)
    frozen = score_pairs(part, tf_tables=tf)
    own = score_pairs(part)
    full = score_pairs(everyone, tf_tables=tf)

    def scores(table):
        keys = zip(
            table["person_record_id_l"].to_pylist(),
            table["person_record_id_r"].to_pylist(),
            strict=True,
        )
        return dict(zip(keys, table["match_probability"].to_pylist(), strict=True))

    in_part = {k: v for k, v in scores(full).items() if k in scores(frozen)}
    assert scores(frozen) == in_part  # the same pair scores the same with more records
    assert scores(own) != scores(frozen)  # TF derived from the records scored would move it


def test_the_bench_holds_out_the_latest_crm_contacts_and_tickets(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from c360.identity.incremental_bench import hold_out

    raw = tmp_path / "raw"
    raw.mkdir()
    for table in ("crm_contacts", "support_tickets", "shop_orders"):
        pq.write_table(
            pa.table({"id": [f"{table}{i}" for i in range(10)], "created_at": list(range(10))}),
            raw / f"{table}.parquet",
        )
    held = hold_out(raw, tmp_path / "before", 0.2)
    assert held == {"crm_contacts": 2, "support_tickets": 2}
    kept = pq.read_table(tmp_path / "before" / "crm_contacts.parquet")
    assert sorted(kept.column("created_at").to_pylist()) == list(range(8))
    assert (tmp_path / "before" / "shop_orders.parquet").is_symlink()


def stability_warehouse(path: Path, records: dict, aliases: list[tuple]) -> Path:
    """A warehouse with the tables id_stability reads: record -> (cluster, customer id)."""
    con = duckdb.connect(str(path))
    con.execute("create schema intermediate")
    ids = list(records)
    con.register(
        "r",
        pa.table(
            {
                "person_record_id": ids,
                "cluster": [records[i][0] for i in ids],
                "customer_id": [records[i][1] for i in ids],
            }
        ),
    )
    con.execute(
        "create table intermediate.int_person_records_clustered as"
        " select person_record_id, cluster as customer_id from r"
    )
    con.execute(
        "create table intermediate.int_person_records_customer_ids as"
        " select person_record_id, customer_id from r"
    )
    con.execute(
        "create table intermediate.int_customer_id_aliases"
        " (customer_id varchar, current_customer_id varchar, retired_build_id varchar)"
    )
    for row in aliases:
        con.execute("insert into intermediate.int_customer_id_aliases values (?, ?, ?)", row)
    con.close()
    return path


def test_id_stability_counts_ids_kept_by_unchanged_clusters_and_where_gone_ids_went(
    tmp_path: Path,
) -> None:
    from c360.identity.incremental_bench import id_stability

    before = stability_warehouse(
        tmp_path / "before.duckdb",
        {
            "a1": ("A", "C-a"),
            "a2": ("A", "C-a"),  # A gains a new record: unchanged
            "b1": ("B", "C-b"),  # B and D merge into one cluster now
            "d1": ("D", "C-d"),
            "e1": ("E", "C-e"),  # E splits
            "e2": ("E", "C-e"),
            "f1": ("F", "C-f"),  # F's only record is erased
            "g1": ("G", "C-g"),  # G loses a record: neither merged nor split
            "g2": ("G", "C-g"),
        },
        [],
    )
    after = stability_warehouse(
        tmp_path / "after.duckdb",
        {
            "a1": ("A", "C-a"),
            "a2": ("A", "C-a"),
            "n1": ("A", "C-a"),
            "b1": ("B", "C-b"),
            "d1": ("B", "C-b"),
            "e1": ("E", "C-e"),
            "e2": ("X", "C-x"),
            "g1": ("G", "C-g"),
        },
        [("C-d", "C-b", "b2"), ("C-f", None, "b2"), ("C-e", "C-e", None)],
    )
    found = id_stability(before, after)
    assert found["records_in_both"] == 7
    assert found["records_cluster_unchanged"] == 3  # a1, a2, g1
    assert found["kept_their_id"] == 3 and found["kept_share"] == 1.0
    assert found["records_with_another_id"] == 2  # d1 (merged into C-b), e2 (split off)
    assert found["ids_gone"] == 2  # C-d merged, C-f erased
    assert found["ids_gone_with_current_successor"] == 1
    assert found["ids_gone_retired_without_records"] == 1


def test_assigning_ids_to_the_reclustered_part_only_appends_what_a_full_assignment_does() -> None:
    import datetime as dt

    from c360.identity.stable_ids import LINEAGE_SCHEMA, next_lineage

    def clustered(rows: list[tuple[str, str]]) -> pa.Table:
        return pa.table(
            {
                "person_record_id": [r for r, _ in rows],
                "customer_id": [c for _, c in rows],
                "cluster_confidence": [1.0] * len(rows),
            }
        )

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = clustered([("a", "A"), ("b", "A"), ("c", "C"), ("d", "D"), ("e", "D"), ("g", "G")])
    lineage = next_lineage(LINEAGE_SCHEMA.empty_table(), first, "b1", at)
    # c joins a and b, f is new, g is gone; d and e are untouched
    second = clustered([("a", "A"), ("b", "A"), ("c", "A"), ("d", "D"), ("e", "D"), ("f", "F")])
    full = next_lineage(lineage, second, "b2", at)
    part = next_lineage(lineage, second, "b2", at, reclustered=pa.array(["a", "b", "c", "f"]))
    order = [
        ("row_kind", "ascending"),
        ("person_record_id", "ascending"),
        ("customer_id", "ascending"),
    ]
    assert full.num_rows > 0
    assert part.sort_by(order).to_pylist() == full.sort_by(order).to_pylist()
