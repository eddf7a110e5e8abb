"""E.164 normalisation: every format of the source contract, and what must not parse."""

from __future__ import annotations

import duckdb
import pytest

from c360.phones import register_duckdb_udfs, to_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(212) 555-0100", "+12125550100"),
        ("212.555.0100", "+12125550100"),
        ("212-555-0100", "+12125550100"),
        ("+1 212 555 0100", "+12125550100"),
        ("12125550100", "+12125550100"),
        ("2125550100", "+12125550100"),
        ("212-555-0100 ext 7", "+12125550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+49 30 901820", "+4930901820"),
        ("+33 1 42 68 53 00", "+33142685300"),
    ],
)
def test_contract_formats_normalise_to_e164(raw: str, expected: str) -> None:
    assert to_e164(raw, "US") == expected


@pytest.mark.parametrize(
    "raw", [None, "", "  ", "n/a", "12345", "0000000000", "1234567890", "+44 12"]
)
def test_non_phones_are_none(raw: str | None) -> None:
    assert to_e164(raw, "US") is None


def test_default_region_applies_to_numbers_without_country_code() -> None:
    assert to_e164("020 7946 0958", "GB") == "+442079460958"


def test_duckdb_udf_is_registered_once_and_handles_null() -> None:
    con = duckdb.connect()
    register_duckdb_udfs(con)
    register_duckdb_udfs(con)  # a second connection set-up must not fail
    rows = con.sql(
        "select c360_phone_e164('+44 20 7946 0958', 'US'), c360_phone_e164(null, 'US')"
    ).fetchall()
    assert rows == [("+442079460958", None)]
