"""The synthetic data generator: contract shape, determinism, ground truth, planted difficulty."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from c360.datagen import CONTRACT, generate
from c360.datagen.reference import JUNK_EMAILS, NICKNAMES

PERSON_TABLES = {
    "crm": ("crm_contacts", "contact_id"),
    "shop": ("shop_customers", "customer_id"),
    "loyalty": ("loyalty_members", "member_id"),
    "support": ("support_tickets", "ticket_id"),
}


def rows(folder: Path, table: str) -> list[dict]:
    relation = duckdb.sql(
        f"select * from read_csv('{folder / table}.csv', all_varchar = true, header = true)"
    )
    return [dict(zip(relation.columns, r, strict=True)) for r in relation.fetchall()]


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(2000, 5, out, "csv")
    return out


def test_every_contract_table_with_contract_columns(sample: Path) -> None:
    for table, columns in CONTRACT.items():
        header = (sample / f"{table}.csv").read_text().splitlines()[0]
        assert [c.strip('"') for c in header.split(",")] == list(columns), table


def test_parquet_has_same_tables_as_text(tmp_path: Path) -> None:
    counts = generate(300, 5, tmp_path, "parquet")
    for table, columns in CONTRACT.items():
        suffix = "csv" if table == "truth_person_records" else "parquet"
        path = tmp_path / f"{table}.{suffix}"
        assert path.exists(), table
        if suffix == "parquet":
            schema = pq.read_schema(path)
            assert schema.names == list(columns)
            assert {str(t) for t in schema.types} == {"string"}
            assert pq.read_metadata(path).num_rows == counts[table]


def test_tiny_population_still_writes_every_table(tmp_path: Path) -> None:
    generate(5, 3, tmp_path, "csv")
    assert {p.stem for p in tmp_path.iterdir()} == set(CONTRACT)


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    # two chunks so the parallel path is exercised
    import c360.datagen as datagen

    original = datagen.CHUNK_PERSONS
    datagen.CHUNK_PERSONS = 150
    try:
        generate(300, 9, tmp_path / "a", "csv", workers=1)
        generate(300, 9, tmp_path / "b", "csv", workers=2)
        generate(300, 10, tmp_path / "c", "csv", workers=2)
    finally:
        datagen.CHUNK_PERSONS = original
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_truth_covers_every_person_record_once(sample: Path) -> None:
    truth = rows(sample, "truth_person_records")
    keys = Counter((t["source_system"], t["source_record_id"]) for t in truth)
    assert max(keys.values()) == 1
    for system, (table, key) in PERSON_TABLES.items():
        ids = [r[key] for r in rows(sample, table)]
        assert len(ids) == len(set(ids)), table
        assert {(system, i) for i in ids} == {k for k in keys if k[0] == system}
    guests = {r["order_id"] for r in rows(sample, "shop_orders") if not r["customer_id"]}
    assert guests and guests == {k[1] for k in keys if k[0] == "shop_guest"}
    assert set(k[0] for k in keys) == {"crm", "shop", "shop_guest", "loyalty", "support"}


def iso_date(text: str) -> str | None:
    """The contract's three date formats to ISO, so one birthday compares equal to itself."""
    if not re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", text):
        return None  # a planted unparseable value such as 'unknown'
    if "/" in text:
        month, day, year = text.split("/")
    elif "." in text:
        day, month, year = text.split(".")
    else:
        year, month, day = text.split("-")
    return f"{year}-{month}-{day}"


def person_of(sample: Path) -> dict[tuple[str, str], str]:
    return {
        (t["source_system"], t["source_record_id"]): t["person_id"]
        for t in rows(sample, "truth_person_records")
    }


def test_households_and_twins_share_address_and_phone(sample: Path) -> None:
    truth = person_of(sample)
    by_address = defaultdict(set)
    for r in rows(sample, "crm_contacts"):
        if r["street_address"] and r["phone"] and r["birth_date"]:
            key = (
                re.sub(r"\W", "", r["street_address"].lower())[:-2],
                r["postal_code"],
                re.sub(r"\D", "", r["phone"])[-10:],
            )
            by_address[key].add(
                (
                    truth[("crm", r["contact_id"])],
                    r["first_name"].strip().lower(),
                    iso_date(r["birth_date"]),
                )
            )
    households = [m for m in by_address.values() if len({p for p, _, _ in m}) > 1]
    assert households, "no household shares an address and a phone"


def test_twins_share_birthday_address_and_phone_but_not_first_name() -> None:
    import numpy as np

    from c360.datagen.people import make_people

    people = make_people(np.random.default_rng(1), 3000, 0, 1095)
    twins = [
        (a, b)
        for a, b in itertools.pairwise(people)
        if a.dob == b.dob
        and a.street == b.street
        and a.home_phone == b.home_phone
        and a.first != b.first
    ]
    assert len(twins) > 20


def test_names_vary_across_records_of_one_person(sample: Path) -> None:
    firsts = [r["first_name"].strip() for r in rows(sample, "shop_customers") if r["first_name"]]
    assert any(name in NICKNAMES for name in firsts), "no nicknames"
    assert any(name.isupper() and len(name) > 2 for name in firsts), "no case noise"


def test_formats_and_junk_are_mixed_within_files(sample: Path) -> None:
    crm = rows(sample, "crm_contacts")
    phones = [r["phone"] for r in crm if r["phone"]]
    for pattern in (
        r"\(\d{3}\) \d{3}-\d{4}",
        r"\d{3}\.\d{3}\.\d{4}",
        r"\+1 \d{3} \d{3} \d{4}",
        r"1\d{10}",
        r"\d{10}",
        r"\+(44|49|33).*",
    ):
        assert any(re.fullmatch(pattern, p) for p in phones), pattern
    births = [r["birth_date"] for r in crm if r["birth_date"]]
    for pattern in (r"\d{4}-\d{2}-\d{2}", r"\d{2}/\d{2}/\d{4}", r"\d{2}\.\d{2}\.\d{4}"):
        assert any(re.fullmatch(pattern, b) for b in births), pattern
    emails = [r["email"] for r in crm + rows(sample, "shop_customers") if r["email"]]
    assert any(e.strip().lower() in JUNK_EMAILS for e in emails)
    assert any(e != e.strip() or e != e.lower() for e in emails)


def test_duplicate_accounts_exist(sample: Path) -> None:
    people = Counter(p for (system, _), p in person_of(sample).items() if system == "shop")
    assert max(people.values()) >= 2


def test_churners_stop_buying_and_anonymous_devices_log_in(sample: Path) -> None:
    last_order = duckdb.sql(
        f"""
        select customer_id, max(ordered_at::timestamp) as last_at
        from read_csv('{sample}/shop_orders.csv', all_varchar = true, header = true)
        where customer_id is not null group by customer_id
        """
    ).fetchall()
    lapsed = [c for c, last_at in last_order if last_at.year < 2025]
    assert len(lapsed) > len(last_order) * 0.1, "too few customers who stopped buying"
    stitched = duckdb.sql(
        f"""
        select count(*) from (
            select anonymous_id
            from read_csv('{sample}/web_events.csv', all_varchar = true, header = true)
            group by anonymous_id
            having count(*) filter (where customer_id is null) > 0
               and count(*) filter (where customer_id is not null) > 0
        )
        """
    ).fetchall()[0][0]
    assert stitched > 0
