"""Phone numbers to E.164, with the rules the SQL fast path in ``normalize_phone`` mirrors.

Most retail phones are North American and take the SQL fast path (no Python per row);
everything else (``+44 ...``, extensions, a non-NANP default region) comes here and is
parsed by ``phonenumbers``, registered in DuckDB as ``c360_phone_e164(raw, region)``.
"""

from __future__ import annotations

import phonenumbers
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

# Country calling code 1 (NANP) is validated by structure, not by the list of assigned
# area codes: the same rule the SQL fast path applies, so both paths agree.
_NANP_CODE = 1


def _valid_nanp(national_number: str) -> bool:
    """A NANP number is 10 digits whose area code and exchange do not start with 0 or 1."""
    return (
        len(national_number) == 10
        and national_number[0] in "23456789"
        and national_number[3] in "23456789"
    )


def to_e164(raw: str | None, default_region: str = "US") -> str | None:
    """Return ``raw`` as an E.164 string (``+12125550100``), or None when it is not a phone.

    Numbers without a ``+`` country code are read in ``default_region`` (ISO 3166 alpha-2).
    """
    if raw is None or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, (default_region or "US").upper())
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == _NANP_CODE:
        national = str(number.national_number)
        return f"+1{national}" if _valid_nanp(national) else None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def register_duckdb_udfs(conn: DuckDBPyConnection) -> None:
    """Register ``c360_phone_e164`` on ``conn`` (idempotent: a second call is a no-op)."""
    already = conn.sql(
        "select count(*) from duckdb_functions() where function_name = 'c360_phone_e164'"
    ).fetchall()[0][0]
    if already:
        return
    conn.create_function(
        "c360_phone_e164",
        to_e164,
        [VARCHAR, VARCHAR],
        VARCHAR,
        null_handling="special",
        side_effects=False,
    )
