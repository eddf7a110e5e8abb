"""FEBRL through the source contract: complete raw folder, honest mapping, exact truth."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from c360.datagen import CONTRACT
from c360.datasets import febrl

PERSON_TABLES = {"crm": ("crm_contacts", "contact_id"), "shop": ("shop_customers", "customer_id")}


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def febrl1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return febrl.write("febrl1", tmp_path_factory.mktemp("febrl1"))


@pytest.fixture(scope="module")
def febrl4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return febrl.write("febrl4", tmp_path_factory.mktemp("febrl4"))


def records(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    """(source_system, record id) -> row, over both person tables."""
    found = {}
    for system, (table, key) in PERSON_TABLES.items():
        for row in read(folder / f"{table}.csv"):
            found[(system, row[key])] = row
    return found


def test_folder_has_every_contract_table_with_its_columns(febrl1: Path) -> None:
    assert {p.name for p in febrl1.iterdir()} == {f"{name}.csv" for name in CONTRACT}
    for table, columns in CONTRACT.items():
        assert header(febrl1 / f"{table}.csv") == list(columns), table
    for table in set(CONTRACT) - {"crm_contacts", "shop_customers", "truth_person_records"}:
        assert read(febrl1 / f"{table}.csv") == [], f"{table} is not header-only"


def test_parquet_folder_is_the_same_data(febrl1: Path, tmp_path: Path) -> None:
    out = febrl.write("febrl1", tmp_path, "parquet")
    assert out == tmp_path
    assert (tmp_path / "truth_person_records.csv").read_bytes() == (
        febrl1 / "truth_person_records.csv"
    ).read_bytes()
    for table, columns in CONTRACT.items():
        if table == "truth_person_records":
            continue
        parquet = pq.read_table(tmp_path / f"{table}.parquet")
        assert parquet.schema.names == list(columns), table
        assert {str(t) for t in parquet.schema.types} == {"string"}
        as_text = [{k: v or "" for k, v in row.items()} for row in parquet.to_pylist()]
        assert as_text == read(febrl1 / f"{table}.csv"), table


def test_writing_again_in_another_format_leaves_one_format(tmp_path: Path) -> None:
    febrl.write("febrl1", tmp_path, "parquet")
    febrl.write("febrl1", tmp_path, "csv")
    assert {p.suffix for p in tmp_path.iterdir()} == {".csv"}


def test_truth_covers_every_person_record_exactly_once(febrl1: Path) -> None:
    truth = read(febrl1 / "truth_person_records.csv")
    keys = Counter((t["source_system"], t["source_record_id"]) for t in truth)
    assert max(keys.values()) == 1
    assert set(keys) == set(records(febrl1))
    for t in truth:  # rec-223-org and rec-223-dup-0 are person 223
        assert t["source_record_id"].startswith(f"rec-{t['person_id']}-")


def test_febrl1_has_500_originals_each_with_one_duplicate(febrl1: Path) -> None:
    truth = read(febrl1 / "truth_person_records.csv")
    assert len(truth) == 1000
    kinds = Counter(t["source_record_id"].split("-")[2] for t in truth)
    assert kinds == {"org": 500, "dup": 500}
    per_person = Counter(t["person_id"] for t in truth)
    assert len(per_person) == 500 and set(per_person.values()) == {2}


def test_records_split_about_evenly_so_both_kinds_of_pairs_exist(febrl1: Path) -> None:
    truth = read(febrl1 / "truth_person_records.csv")
    systems = Counter(t["source_system"] for t in truth)
    assert 0.4 < systems["crm"] / len(truth) < 0.6
    sources_of = defaultdict(list)
    for t in truth:
        sources_of[t["person_id"]].append(t["source_system"])
    pairs = Counter(tuple(sorted(s)) for s in sources_of.values())
    assert pairs[("crm", "shop")] > 150
    assert pairs[("crm", "crm")] > 50 and pairs[("shop", "shop")] > 50


def test_febrl4_puts_originals_in_crm_and_duplicates_in_shop(febrl4: Path) -> None:
    truth = read(febrl4 / "truth_person_records.csv")
    assert len(truth) == 10_000
    for t in truth:
        expected = "crm" if t["source_record_id"].endswith("-org") else "shop"
        assert t["source_system"] == expected
    per_person = Counter((t["person_id"], t["source_system"]) for t in truth)
    assert len(per_person) == 10_000  # one CRM and one shop record per person


def test_fields_map_as_febrl_has_them(febrl1: Path) -> None:
    # rec-122-org: lachlan, berry, 69, giblin street, killarney, bittern, 4814, qld, 19990219
    rows = records(febrl1)
    system = next(s for s, i in rows if i == "rec-122-org")
    row = rows[(system, "rec-122-org")]
    street = row.get("street_address", row.get("address_line1"))
    birth = row.get("birth_date", row.get("date_of_birth"))
    assert (row["first_name"], row["last_name"], street) == ("lachlan", "berry", "69 giblin street")
    assert (row["city"], row["postal_code"], row["country"], birth) == (
        "bittern",
        "4814",
        "AU",
        "1999-02-19",
    )
    for row in rows.values():
        assert row["email"] == "" and row["phone"] == ""
        assert row["created_at"] and row["created_at"] == row["updated_at"]
        assert "2025-01-01" <= row["created_at"] < "2026-01-01"


def test_invalid_febrl_dates_are_passed_on_not_fixed(febrl1: Path) -> None:
    births = Counter(
        row.get("birth_date", row.get("date_of_birth")) for row in records(febrl1).values()
    )
    # FEBRL's 19371233, 19729518 and 19339026 are impossible dates: staging nulls and counts
    assert {"1937-12-33", "1972-95-18", "1933-90-26"} <= set(births)
    assert births[""] == 41  # 959 of the 1000 FEBRL records have a date of birth


def test_missing_street_number_leaves_just_the_street(febrl1: Path) -> None:
    # rec-10-dup-0 has no street number: 'maltby circuit'
    rows = {i: r for (_, i), r in records(febrl1).items()}
    row = rows["rec-10-dup-0"]
    assert row.get("street_address", row.get("address_line1")) == "maltby circuit"


def test_same_input_same_bytes(febrl1: Path, tmp_path: Path) -> None:
    febrl.write("febrl1", tmp_path / "csv")
    assert digest(tmp_path / "csv") == digest(febrl1)
    febrl.write("febrl2", tmp_path / "a", "parquet")
    febrl.write("febrl2", tmp_path / "b", "parquet")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_command_line_and_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    febrl.main(["--dataset", "febrl3", "--out", str(tmp_path)])
    assert "truth_person_records" in capsys.readouterr().out
    assert len(read(tmp_path / "truth_person_records.csv")) == 5000
    with pytest.raises(ValueError, match="febrl1, febrl2, febrl3, febrl4"):
        febrl.write("febrl5", tmp_path)
    with pytest.raises(ValueError, match="format"):
        febrl.write("febrl1", tmp_path, "json")


def test_other_data_in_the_wheel_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(febrl.SHA256, "dataset1.csv", "0" * 64)
    with pytest.raises(RuntimeError, match=r"dataset1.csv has sha256 637acf9d.*another version"):
        febrl.read_febrl("dataset1.csv")
