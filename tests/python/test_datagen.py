"""The synthetic data generator: contract shape, determinism, ground truth, planted difficulty."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from c360.datagen import CONTRACT, DIFFICULTIES, generate
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


@pytest.fixture(scope="module")
def hard_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same persons and seed as `sample`, in hard mode."""
    out = tmp_path_factory.mktemp("gen_hard")
    generate(2000, 5, out, "csv", difficulty="hard")
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


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path, difficulty: str) -> None:
    # two chunks so the parallel path is exercised
    import c360.datagen as datagen

    original = datagen.CHUNK_PERSONS
    datagen.CHUNK_PERSONS = 150
    try:
        generate(300, 9, tmp_path / "a", "csv", workers=1, difficulty=difficulty)
        generate(300, 9, tmp_path / "b", "csv", workers=2, difficulty=difficulty)
        generate(300, 10, tmp_path / "c", "csv", workers=2, difficulty=difficulty)
    finally:
        datagen.CHUNK_PERSONS = original
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_default_output_is_pinned(tmp_path: Path) -> None:
    """The default mode's bytes as they were before hard mode existed: hard mode must not
    change a single draw of it (and nothing else may, unnoticed)."""
    generate(300, 7, tmp_path, "csv")
    combined = hashlib.sha256()
    for path in sorted(tmp_path.iterdir()):
        combined.update(path.name.encode())
        combined.update(path.read_bytes())
    assert combined.hexdigest() == (
        "603ca9c2ab3b8f76745ae7623807a2cdc09006bfc624867d35d6d29ed54c8a57"
    )


def test_unknown_difficulty_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="difficulty must be one of default, hard"):
        generate(10, 1, tmp_path, "csv", difficulty="extreme")


@pytest.mark.parametrize("folder", ["sample", "hard_sample"])
def test_truth_covers_every_person_record_once(folder: str, request: pytest.FixtureRequest) -> None:
    sample = request.getfixturevalue(folder)
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


# --- hard mode --------------------------------------------------------------------------

RECORD_COLUMNS = {  # table -> system, id, date of birth, created
    "crm_contacts": ("crm", "contact_id", "birth_date", "created_at"),
    "shop_customers": ("shop", "customer_id", "date_of_birth", "created_at"),
    "loyalty_members": ("loyalty", "member_id", "birth_date", "enrolled_at"),
}


def person_records(folder: Path) -> list[dict]:
    """CRM, shop and loyalty records with their person and uniform column names."""
    truth = person_of(folder)
    found = []
    for table, (system, key, dob, created) in RECORD_COLUMNS.items():
        for r in rows(folder, table):
            r = {k: v or "" for k, v in r.items()}
            found.append(
                {
                    **r,
                    "system": system,
                    "id": r[key],
                    "person": truth[(system, r[key])],
                    "dob": r[dob],
                    "created": r[created],
                }
            )
    return found


def mates(records: list[dict]) -> list[tuple[dict, dict]]:
    """Every pair of records of the same person."""
    by_person = defaultdict(list)
    for r in records:
        by_person[r["person"]].append(r)
    return [pair for group in by_person.values() for pair in itertools.combinations(group, 2)]


def edits(a: str, b: str) -> int:
    """Optimal string alignment distance (a transposition is one edit)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def parse_dob(text: str) -> date | None:
    """As the contract reads it: slashes are US (MM/DD/YYYY), dots day-first."""
    iso = iso_date(text)
    try:
        return date.fromisoformat("-".join(p.zfill(2) for p in iso.split("-"))) if iso else None
    except ValueError:
        return None


def test_hard_mode_keeps_every_default_record_and_draw(sample: Path, hard_sample: Path) -> None:
    for table in ("web_events", "email_events", "consent_events", "shop_order_items"):
        assert (sample / f"{table}.csv").read_bytes() == (hard_sample / f"{table}.csv").read_bytes()
    default = {(r["system"], r["id"]): r for r in person_records(sample)}
    hard = {(r["system"], r["id"]): r for r in person_records(hard_sample)}
    assert set(default) < set(hard)
    for key, record in default.items():  # same record, a few fields changed at most
        same = sum(record[c] == hard[key][c] for c in record)
        assert same >= len(record) - 4, key


def test_hard_mode_types_short_first_names_one_edit_off(sample: Path, hard_sample: Path) -> None:
    def slips(folder: Path) -> Counter:
        kinds: Counter = Counter()
        for a, b in mates(person_records(folder)):
            x, y = a["first_name"].strip().lower(), b["first_name"].strip().lower()
            if x == y or min(len(x), len(y)) < 3 or max(len(x), len(y)) > 5 or edits(x, y) != 1:
                continue
            if len(x) != len(y):
                kinds["insertion or deletion"] += 1
            elif sum(p != q for p, q in zip(x, y, strict=True)) == 1:
                kinds["substitution"] += 1  # Mark/Mrrk, John/Juhn, Laura/Laora
            else:
                kinds["transposition"] += 1  # Jerry/Jeryr
        return kinds

    hard = slips(hard_sample)
    assert min(hard.values()) >= 5 and len(hard) == 3, hard
    assert slips(sample)["substitution"] == 0  # the default typos never substitute


def test_hard_mode_slips_birth_dates(sample: Path, hard_sample: Path) -> None:
    def slips(folder: Path) -> Counter:
        kinds: Counter = Counter()
        for a, b in mates(person_records(folder)):
            x, y = parse_dob(a["dob"]), parse_dob(b["dob"])
            if x is None or y is None or x == y:
                continue
            if (x.year, x.month, x.day) == (y.year, y.day, y.month):
                kinds["day and month swapped"] += 1
            elif sum(p != q for p, q in zip(x.isoformat(), y.isoformat(), strict=True)) == 1:
                kinds["one digit"] += 1
            else:
                kinds["other"] += 1
        return kinds

    hard, default = slips(hard_sample), slips(sample)
    assert hard["day and month swapped"] >= 10 and hard["one digit"] >= 10, hard
    assert default == Counter(), default
    # a British date written day-first reads as US: an impossible month, or day and month
    # swapped (counted above)
    truth = person_of(hard_sample)
    gb = {
        truth[("crm", r["contact_id"])]
        for r in rows(hard_sample, "crm_contacts")
        if r["country"] == "GB"
    }
    impossible = [
        r["dob"]
        for r in person_records(hard_sample)
        if r["person"] in gb
        and re.fullmatch(r"\d\d/\d\d/\d{4}", r["dob"])
        and int(r["dob"][:2]) > 12
    ]
    assert len(impossible) >= 5, impossible


def test_hard_mode_gives_older_records_the_maiden_name(sample: Path, hard_sample: Path) -> None:
    def surnames(folder: Path) -> dict[str, list[tuple[str, str]]]:
        names = defaultdict(list)
        for r in person_records(folder):
            names[r["person"]].append((r["created"], r["last_name"].strip().lower()))
        # two surnames far apart (not a typo of one another)
        return {
            p: sorted(n)
            for p, n in names.items()
            if any(edits(a, b) >= 3 for (_, a), (_, b) in itertools.combinations(n, 2))
        }

    married = surnames(hard_sample)
    assert len(married) >= 5
    for records in married.values():
        # one change of name: all records before some day carry one, all after the other
        in_order = [name for _, name in records]
        changes = sum(edits(a, b) >= 3 for a, b in itertools.pairwise(in_order) if a != b)
        assert changes == 1, records
    assert surnames(sample) == {}


def test_hard_mode_spells_umlauts_out(sample: Path, hard_sample: Path) -> None:
    from c360.datagen.hard import name_variant

    def spelled_out(folder: Path) -> set[tuple[str, str]]:
        found = set()
        for a, b in mates(person_records(folder)):
            for column in ("first_name", "last_name"):
                for x, y in ((a[column], b[column]), (b[column], a[column])):
                    if not x.isascii() and y.isascii() and y == name_variant(x, True) != x:
                        found.add((x.strip(), y.strip()))
        return found

    hard = spelled_out(hard_sample)
    assert any("ue" in y or "oe" in y or "aa" in y for _, y in hard), hard
    assert len(hard) >= 3 and spelled_out(sample) == set()


def test_hard_mode_drops_leading_zeros_of_postal_codes(sample: Path, hard_sample: Path) -> None:
    def dropped(folder: Path) -> int:
        return sum(
            x["postal_code"] == "0" + y["postal_code"]
            for a, b in mates(person_records(folder))
            for x, y in ((a, b), (b, a))
        )

    assert dropped(hard_sample) >= 10
    assert dropped(sample) == 0


def test_hard_mode_reissues_lost_loyalty_cards(sample: Path, hard_sample: Path) -> None:
    members = defaultdict(list)
    for r in person_records(hard_sample):
        if r["system"] == "loyalty":
            members[r["person"]].append(r)
    reissued = [sorted(m, key=lambda r: r["created"]) for m in members.values() if len(m) > 1]
    assert len(reissued) >= 10
    since = {}
    for old, new in reissued:
        assert old["card_number"] != new["card_number"]
        assert old["status"] == "closed" and old["updated_at"] == new["created"]
        since[old["card_number"]] = since[new["card_number"]] = new["created"]
    sales = [r for r in rows(hard_sample, "pos_transactions") if r["loyalty_card_number"] in since]
    olds = {old["card_number"] for old, _ in reissued}
    for sale in sales:  # before the re-issue on the old card, from it on the new one
        card, at = sale["loyalty_card_number"], sale["transacted_at"]
        assert (at < since[card]) == (card in olds), sale
    assert sum(s["loyalty_card_number"] not in olds for s in sales) >= 10
    per_person = Counter(r["person"] for r in person_records(sample) if r["system"] == "loyalty")
    assert max(per_person.values()) == 1


def test_hard_mode_opens_duplicate_accounts_with_work_emails(
    sample: Path, hard_sample: Path
) -> None:
    from c360.datagen.hard import WORK_DOMAINS

    def work(folder: Path) -> list[dict]:
        return [
            r
            for r in person_records(folder)
            if r["system"] in ("crm", "shop") and r["email"].strip().lower().endswith(WORK_DOMAINS)
        ]

    accounts = work(hard_sample)
    assert len(accounts) >= 20
    assert {r["system"] for r in accounts} == {"crm", "shop"}
    others = Counter(r["person"] for r in person_records(hard_sample) if r["system"] != "loyalty")
    assert all(others[r["person"]] >= 2 for r in accounts)  # a second account of the person
    owners = defaultdict(set)
    for r in accounts:
        owners[r["email"].strip().lower()].add(r["person"])
    assert max(len(p) for p in owners.values()) == 1
    ordered = {r["customer_id"] for r in rows(hard_sample, "shop_orders")}
    assert ordered & {r["id"] for r in accounts}  # some orders placed on them
    assert work(sample) == []
