"""Masked mode: personal values become short hashes, birth dates their year.

Same rule as customer_360_masked (text -> SHA-256, date -> 1 January of its year), with the
hash cut to HASH_CHARS hex digits for reading: two records with the same value still show
the same hash, which is what a reviewer compares. Unsalted, like the masked mart: it stops
casual reading, not someone who hashes a guessed email.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa

HASH_CHARS = 12
# ids and codes that are not personal data (pseudonymous keys, the source system)
NOT_PERSONAL = {"person_record_id", "source_system", "customer_id", "cluster_id"}


def mask_text(value: str | None) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:HASH_CHARS]


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
