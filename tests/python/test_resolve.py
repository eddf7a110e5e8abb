"""Near-real-time resolve (c360.identity.resolve) on the published sample build: its
standardisation is staging's, its scores are Splink's, its answers the build's."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from c360.identity import resolve
from c360.identity.resolve import (
    INPUT_FIELDS,
    MATCH_FIELDS,
    NEW,
    ResolveError,
    Resolver,
    UnsupportedForm,
    bench,
    damerau_levenshtein,
    jaro_winkler_similarity,
    load_model,
)
from c360.identity.scoring import MATCH_COLUMNS, MODEL_PATH, score_pairs
from c360.publish import publish
from conftest import PROJECT_DIR, dbt_build

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_DIR / "data" / "sample"
# The raw columns of each person-bearing source, as resolve's input fields.
SOURCES = {
    "crm": (
        "crm_contacts",
        "contact_id",
        {
            "first_name": "first_name",
            "last_name": "last_name",
            "email": "email",
            "phone": "phone",
            "birth_date": "birth_date",
            "street_address": "street_address",
            "postal_code": "postal_code",
        },
    ),
    "shop": (
        "shop_customers",
        "customer_id",
        {
            "first_name": "first_name",
            "last_name": "last_name",
            "email": "email",
            "phone": "phone",
            "birth_date": "date_of_birth",
            "street_address": "address_line1",
            "postal_code": "postal_code",
        },
    ),
    "loyalty": (
        "loyalty_members",
        "member_id",
        {
            "first_name": "first_name",
            "last_name": "last_name",
            "email": "email",
            "phone": "phone",
            "birth_date": "birth_date",
            "postal_code": "postal_code",
        },
    ),
    "support": (
        "support_tickets",
        "ticket_id",
        {"full_name": "requester_name", "email": "requester_email", "phone": "requester_phone"},
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("resolve")
    db = dbt_build(SAMPLE, work / "warehouse.duckdb", work)
    serving = work / "target" / "serving" / "customer_360.duckdb"
    publish(db, serving)
    return {"db": db, "serving": serving}


@pytest.fixture(scope="module")
def resolver(built: dict) -> Resolver:
    with Resolver(built["serving"]) as opened:
        yield opened


@pytest.fixture(scope="module")
def index(resolver: Resolver) -> list[dict]:
    cursor = resolver.con.execute("select * from resolve_index order by person_record_id")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _raw_records(source: str) -> list[tuple[str, dict]]:
    table, key, fields = SOURCES[source]
    with open(SAMPLE / f"{table}.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (f"{source}:{row[key]}", {field: row[column] or None for field, column in fields.items()})
        for row in rows
    ]


# --- standardisation is staging's ------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_standardisation_equals_staging_on_every_sample_record(
    built: dict, resolver: Resolver, source: str
) -> None:
    """Each source table standardised by resolve's SQL, together as staging standardises a
    table (its junk rule counts people per table), gives the build's match columns."""
    raw = _raw_records(source)
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        cursor = con.execute(
            f"select person_record_id, {', '.join(MATCH_FIELDS)} "
            "from intermediate.int_person_records_unioned where source_system = $1",
            [source],
        )
        staged = {row[0]: row[1:] for row in cursor.fetchall()}
    assert staged
    standardised = resolver.standardise_many([record for _, record in raw])
    compared = 0
    for (record_id, _), (row, _) in zip(raw, standardised, strict=True):
        if record_id not in staged:  # a retired CRM contact is no person record
            continue
        assert tuple(row[c] for c in MATCH_FIELDS) == staged[record_id], record_id
        compared += 1
    assert compared == len(staged)


def test_one_record_is_standardised_as_in_its_table(resolver: Resolver) -> None:
    """The single-record path (the one resolve takes) agrees with the batch one, except
    that one record alone can never be junk by the per-table frequency rule."""
    for source in SOURCES:
        raw = _raw_records(source)[:25]
        together = resolver.standardise_many([record for _, record in raw])
        for (record_id, record), (row, keys) in zip(raw, together, strict=True):
            alone, alone_keys = resolver.standardise(record)
            for column in MATCH_FIELDS:
                junk = {"email_key": "dq_email_junk", "phone_e164": "dq_phone_junk"}.get(column)
                if junk and row[junk] and not alone[junk]:
                    continue
                assert alone[column] == row[column], (record_id, column)
            if not (row["dq_email_junk"] or row["dq_phone_junk"]):
                assert alone_keys == keys, record_id


# --- the scores are Splink's -----------------------------------------------------------------


def test_string_similarities_equal_duckdbs(resolver: Resolver, index: list[dict]) -> None:
    names = sorted({r[c] for r in index for c in ("first_name_key", "last_name_key") if r[c]})
    streets = sorted({r["street_name_key"] for r in index if r["street_name_key"]})[:150]
    values = names[:400] + streets + ["", "a", "ab", "ba", "abc", "ca"]
    pairs = [(a, b) for i, a in enumerate(values) for b in values[i : i + 40]]
    table = pa.table({"a": [a for a, _ in pairs], "b": [b for _, b in pairs]})
    con = duckdb.connect()
    con.register("pairs", table)
    expected = con.execute(
        "select jaro_winkler_similarity(a, b), damerau_levenshtein(a, b) from pairs"
    ).fetchall()
    for (a, b), (jaro_winkler, distance) in zip(pairs, expected, strict=True):
        assert jaro_winkler_similarity(a, b) == pytest.approx(jaro_winkler, abs=1e-12), (a, b)
        assert damerau_levenshtein(a, b) == distance, (a, b)


def test_scores_equal_splinks_for_the_candidate_pairs(
    resolver: Resolver, index: list[dict]
) -> None:
    """Splink's own predict over the published records (every blocked pair, threshold 0)
    against resolve's candidates of a sample of them: the same pairs, the same
    probabilities to 1e-9."""
    records = pa.Table.from_pylist([{c: r[c] for c in MATCH_COLUMNS} for r in index])
    pairs = score_pairs(records, threshold=0.0)
    splink: dict[str, dict[str, float]] = {}
    for left, right, probability in zip(
        pairs.column("person_record_id_l").to_pylist(),
        pairs.column("person_record_id_r").to_pylist(),
        pairs.column("match_probability").to_pylist(),
        strict=True,
    ):
        splink.setdefault(left, {})[right] = probability
        splink.setdefault(right, {})[left] = probability
    compared = 0
    keys = resolver.published_keys()
    assert keys[index[0]["person_record_id"]] == resolver.blocking_keys(index[0])
    for record in index[::20]:
        record_id = record["person_record_id"]
        resolution = resolver.resolve_standardised(record, keys[record_id], record_id=record_id)
        ours = {c.person_record_id: c.match_probability for c in resolution.candidates}
        theirs = splink.get(record_id, {})
        assert ours.keys() == theirs.keys(), record_id
        for other, probability in theirs.items():
            assert ours[other] == pytest.approx(probability, abs=1e-9), (record_id, other)
        compared += len(theirs)
    assert compared > 1000


# --- the answers are the build's -------------------------------------------------------------


def test_published_records_resolve_to_their_customer(resolver: Resolver, index: list[dict]) -> None:
    """Every fourth published record (all sources; the whole index takes minutes), resolved
    as it is published, is answered with its own customer. A record with no blocking key
    (a guest order with only a postal code, a ticket with only a name) is new to resolve:
    the build joined it to its customer by a deterministic edge (int_identity_edges_deterministic),
    which has no counterpart for an incoming record."""
    keys = resolver.published_keys()
    wrong, keyless = [], 0
    for record in index[::4]:
        record_keys = keys[record["person_record_id"]]
        resolution = resolver.resolve_standardised(record, record_keys)
        if not any(record_keys.values()):
            keyless += 1
            assert resolution.is_new and resolution.reason.startswith("no blocking key")
        elif resolution.customer_id != record["customer_id"]:
            wrong.append((record["person_record_id"], resolution.customer_id, resolution.reason))
    assert wrong == []
    assert keyless < len(index[::4]) / 50


def test_a_record_without_its_email_still_resolves(resolver: Resolver, index: list[dict]) -> None:
    complete = [
        r
        for r in index
        if r["source_system"] == "crm"
        and all(r[c] for c in ("email_key", "phone_e164", "birth_date", "street_key"))
    ]
    assert len(complete) > 50
    for record in complete[:50]:
        resolution = resolver.resolve(
            {
                "first_name": record["first_name_key"],
                "last_name": record["last_name_key"],
                "phone": record["phone_e164"],
                "birth_date": record["birth_date"].isoformat(),
                "street_address": record["street_key"],
                "postal_code": record["postal_code"],
            }
        )
        assert resolution.customer_id == record["customer_id"], resolution.reason
        assert resolution.match_probability >= resolver.threshold
        assert "email_key: email_key is NULL" in "; ".join(
            f"{k}: {v}" for k, v in resolution.candidates[0].levels.items()
        )


def test_a_stranger_is_new(resolver: Resolver) -> None:
    resolution = resolver.resolve(
        {
            "name": "Zebulon Quixworth",
            "email": "zebulon.quixworth@example.invalid",
            "phone": "+14155550199",
            "birth_date": "1931-02-17",
        }
    )
    assert resolution.is_new
    assert resolution.customer_id == NEW


def test_a_household_member_is_new_or_refused_with_the_reason(
    resolver: Resolver, index: list[dict]
) -> None:
    """Same email, last name and address as a published person, another first name and a
    date of birth a generation apart: the guards' household case."""
    member = next(
        r
        for r in index
        if r["source_system"] == "crm" and r["email_key"] and r["birth_date"] and r["street_key"]
    )
    resolution = resolver.resolve(
        {
            "first_name": "Ignatius" if member["first_name_key"] != "ignatius" else "Cornelius",
            "last_name": member["last_name_key"],
            "email": member["email_key"],
            "birth_date": member["birth_date"].replace(year=member["birth_date"].year - 30),
            "street_address": member["street_key"],
            "postal_code": member["postal_code"],
        }
    )
    assert resolution.is_new
    assert resolution.reason
    best = resolution.candidates[0]
    assert best.person_record_id and (
        best.is_contradictory or resolution.refusals or best.match_probability < resolver.threshold
    )


def test_profile_gives_the_customer_360_row_and_timeline(
    resolver: Resolver, index: list[dict]
) -> None:
    record = next(r for r in index if r["source_system"] == "shop" and r["email_key"])
    resolution = resolver.resolve(
        {
            "email": record["email_key"],
            "first_name": record["first_name_key"],
            "last_name": record["last_name_key"],
        },
        profile=True,
    )
    assert resolution.customer_id == record["customer_id"]
    assert resolution.profile["customer_360"]["customer_id"] == record["customer_id"]
    events = resolution.profile["timeline"]
    assert events and all(e["customer_id"] == record["customer_id"] for e in events)
    assert [e["event_at"] for e in events] == sorted((e["event_at"] for e in events), reverse=True)


def test_erased_customers_are_never_found(built: dict, resolver: Resolver) -> None:
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        erased = con.execute(
            "select pr.email_key, pr.first_name_key, pr.last_name_key "
            "from intermediate.int_person_records_resolved as pr "
            "inner join intermediate.int_erased_customers as erased "
            "on pr.customer_id = erased.customer_id where pr.email_key is not null"
        ).fetchall()
        erased_ids = {
            row[0]
            for row in con.execute(
                "select customer_id from intermediate.int_erased_customers"
            ).fetchall()
        }
    assert erased, "the sample has erasure requests"
    for email, first, last in erased[:20]:
        resolution = resolver.resolve({"email": email, "first_name": first, "last_name": last})
        assert resolution.customer_id not in erased_ids
        assert not {c.customer_id for c in resolution.candidates} & erased_ids


# --- bad input and unusable warehouses fail clearly -------------------------------------------


def test_bad_input_fails_with_a_clear_message(resolver: Resolver) -> None:
    with pytest.raises(ResolveError, match=r"birth_date '31\.31\.1999'"):
        resolver.resolve({"name": "Ada Lovelace", "birth_date": "31.31.1999"})
    with pytest.raises(ResolveError, match="nothing to match on"):
        resolver.resolve({"email": "  ", "name": None})
    with pytest.raises(ResolveError, match="unknown field"):
        resolver.resolve({"mail": "ada@example.com"})


def test_a_missing_or_unpublished_warehouse_fails_clearly(built: dict, tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match="No published warehouse"):
        Resolver(tmp_path / "nothing.duckdb")
    with pytest.raises(ResolveError, match="not a published warehouse"):
        Resolver(built["db"])  # the build's own file: no resolve keys


def test_the_committed_model_compares_columns_only_no_duckdb_functions() -> None:
    """The numbered email handle is a column (macro email_handle): no level or blocking
    rule of the committed model runs regular expressions or split_part, DuckDB-only SQL
    that another Splink backend would need translated."""
    model = json.loads(MODEL_PATH.read_text())
    sql = [
        level["sql_condition"]
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
    ] + [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]
    assert 'l."email_handle" = r."email_handle"' in sql
    assert '"email_handle_l" = "email_handle_r"' in sql
    assert not [s for s in sql if any(f in s.lower() for f in ("regexp", "split_part"))]


def test_a_numbered_handle_at_another_address_is_standardised_and_found(
    resolver: Resolver, index: list[dict]
) -> None:
    """The incoming record's handle comes from the standardising SQL the build used (the
    same for every published record: test_standardisation_equals_staging_on_every_sample_record),
    and a published record with that handle at another address is a candidate at the
    handle level."""
    standardised, _ = resolver.standardise({"email": " James_Smith.15984@Yahoo.com "})
    assert standardised["email_handle"] == "jamessmith15984"
    assert resolver.standardise({"email": "info@shop.example"})[0]["email_handle"] is None
    numbered = [r for r in index if r["email_handle"]][:20]
    assert numbered
    for record in numbered:
        resolution = resolver.resolve(
            {
                "first_name": record["first_name_key"],
                "last_name": record["last_name_key"],
                "email": f"{record['email_handle']}@elsewhere.example",
            }
        )
        levels = {c.person_record_id: c.levels for c in resolution.candidates}
        assert record["person_record_id"] in levels, resolution.reason
        assert (
            levels[record["person_record_id"]]["email_key"] == "Same numbered handle, other address"
        )


def test_a_model_with_a_form_resolve_cannot_score_fails_naming_it() -> None:
    model = json.loads(MODEL_PATH.read_text())
    assert load_model(model).rules
    level = model["comparisons"][0]["comparison_levels"][2]
    level["sql_condition"] = 'soundex("first_name_key_l") = soundex("first_name_key_r")'
    with pytest.raises(UnsupportedForm, match=r"(?i)comparison 'first_name', level .*soundex"):
        load_model(model)
    model = json.loads(MODEL_PATH.read_text())
    model["blocking_rules_to_generate_predictions"][0]["blocking_rule"] = (
        'l."email_key" = r."email_key" or l."phone_e164" = r."phone_e164"'
    )
    with pytest.raises(UnsupportedForm, match="blocking rule 1"):
        load_model(model)


def test_a_publication_with_a_model_resolve_cannot_score_is_refused_by_resolve(
    tmp_path: Path,
) -> None:
    """Publishing goes on (readers need the marts); resolve then names what it cannot score."""
    model = json.loads(MODEL_PATH.read_text())
    model["comparisons"][0]["comparison_levels"][2]["sql_condition"] = (
        'soundex("first_name_key_l") = soundex("first_name_key_r")'
    )
    model_file = tmp_path / "model.json"
    model_file.write_text(json.dumps(model))
    served = tmp_path / "served.duckdb"
    with duckdb.connect(str(served)) as con:
        settings = {
            "model_path": str(model_file),
            "match_threshold": "0.7",
            "max_cluster_size": "50",
            "standardise_sql": "select 1",
        }
        con.execute(
            "create table resolve_configuration (setting_name varchar, setting_value varchar)"
        )
        con.executemany("insert into resolve_configuration values (?, ?)", list(settings.items()))
        reason = resolve.prepare_published(con)
        tables = {
            row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()
        }
    assert "first_name" in reason
    assert "resolve_model" in tables and "resolve_blocking_keys" not in tables
    with pytest.raises(ResolveError, match=r"(?i)comparison 'first_name', level .*soundex"):
        Resolver(served)


def test_command_line_answers_in_text_and_json(built: dict, index: list[dict], capsys) -> None:
    record = next(r for r in index if r["email_key"] and r["first_name_key"] and r["last_name_key"])
    args = [
        *("--db", str(built["serving"]), "--email", record["email_key"]),
        *("--first-name", record["first_name_key"], "--last-name", record["last_name_key"]),
    ]
    assert resolve.main([*args, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["customer_id"] == record["customer_id"]
    assert answer["candidates"][0]["levels"]["email_key"] == "Exact match on email_key"
    assert resolve.main(args) == 0
    assert f"customer: {record['customer_id']}" in capsys.readouterr().out
    assert resolve.main(["--db", str(built["serving"]), "--birth-date", "yesterday"]) == 2
    assert "birth_date 'yesterday'" in capsys.readouterr().err


def test_bench_reports_percentiles_and_outcomes(resolver: Resolver) -> None:
    result = bench(resolver, 30, seed=1)
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] <= result["latency_ms"]["p99"]
    assert result["outcomes"]["as_is"] == {"expected": 10}
    assert result["outcomes"]["stranger"] == {"expected": 10}
    assert set(INPUT_FIELDS) >= {"email", "phone"}


def test_guard_name_counts_include_the_nicknames_as_the_builds_do(
    resolver: Resolver, index: list[dict]
) -> None:
    """The guards in resolve read the counts of the records' first names and of those
    names' nicknames, as clustering._name_counts does for the build (the nickname-typo
    guard compares a spelling with the nickname's count), so both decide a merge alike."""
    from c360.identity.clustering import nicknames

    rows = [r for r in index if nicknames().get(r["first_name_canonical"] or "")][:50]
    assert rows, "the sample has no record of a name with nicknames"
    wanted = {r[c] for r in rows for c in ("first_name_key", "first_name_canonical") if r[c]}
    wanted |= {nick for name in set(wanted) for nick in nicknames().get(name, ())}
    published: dict[str, int] = {}
    for value, count in resolver.con.execute(
        "select value, record_count from resolve_term_frequencies "
        "where column_name in ('first_name_key', 'first_name_canonical')"
    ).fetchall():
        if value in wanted:
            published[value] = max(published.get(value, 0), count)
    counts = resolver.guard_name_counts(rows)
    assert counts == published
    assert any(nick in counts for r in rows for nick in nicknames()[r["first_name_canonical"]])
