"""Masked mode: personal values become short keyed hashes, birth dates their year.

Text -> HMAC-SHA-256 cut to HASH_CHARS hex digits, under the key of the masked marts
(C360_MASKING_KEY, c360.masking), or, when none is set, a random key drawn for this run:
two records with the same value still show the same hash, which is what a reviewer
compares, and nobody can find a value by hashing guesses (a plain SHA-256 of a name or a
phone number is reversed by hashing every candidate). Dates -> 1 January of their year.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import lru_cache

import pyarrow as pa

from c360.masking import keyed_hash, masking_key

HASH_CHARS = 12
# ids and codes that are not personal data (pseudonymous keys, the source system)
NOT_PERSONAL = {"person_record_id", "source_system", "customer_id", "cluster_id"}


@lru_cache(maxsize=1)
def run_key() -> bytes:
    """The masking key if one is set, else a random one for this process (this report)."""
    return masking_key() or secrets.token_bytes(32)


def mask_text(value: str | None, key: bytes | None = None) -> str | None:
    if value is None:
        return None
    return keyed_hash(value, key or run_key())[:HASH_CHARS]


def mask_date(value: dt.date | None) -> dt.date | None:
    return None if value is None else dt.date(value.year, 1, 1)


def personal(column: str, base_columns: list[str]) -> bool:
    """Whether `column` (a record column, or one of Splink's `<column>_l` / `_r` copies)
    holds a personal value."""
    base = column.removesuffix("_l").removesuffix("_r")
    return base in base_columns and base not in NOT_PERSONAL


def mask_table(table: pa.Table, base_columns: list[str]) -> pa.Table:
    """`table` with every personal text or date column of `base_columns` (and their Splink
    `_l` / `_r` copies) masked; other columns untouched."""
    for index, field in enumerate(table.schema):
        if not personal(field.name, base_columns) or pa.types.is_null(field.type):
            continue  # not personal, or all NULL: nothing to hide
        values = table.column(index).to_pylist()
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            masked = pa.array([mask_text(v) for v in values], field.type)
        elif pa.types.is_date(field.type):
            masked = pa.array([mask_date(v) for v in values], field.type)
        else:
            raise TypeError(f"cannot mask column {field.name} of type {field.type}")
        table = table.set_column(index, field, masked)
    return table
