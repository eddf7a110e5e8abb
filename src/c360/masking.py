"""Keyed pseudonyms for the masked marts: HMAC-SHA-256 under a secret key.

An unsalted SHA-256 of a name, a ZIP or a phone number is reversed by hashing every
candidate (a list of first names, every ZIP, every number of an area code). An HMAC
cannot be recomputed without its key, so a masked value stays joinable across tables
of the same key but cannot be looked up. The key comes from the environment variable
``C360_MASKING_KEY`` and is read here, at query time: it never appears in compiled SQL,
in ``target/`` or in a log. Without a key the pseudonyms are NULL (nothing to reverse,
nothing to join); see docs/privacy.md for the threat model.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os

from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

KEY_VARIABLE = "C360_MASKING_KEY"
# Shorter keys are guessable: the point of the key is that nobody can enumerate it.
MIN_KEY_LENGTH = 16

log = logging.getLogger("c360")


class MaskingKeyError(ValueError):
    """The masking key is set but too weak to protect anything."""


def masking_key(environ: dict | None = None) -> bytes | None:
    """The key from ``C360_MASKING_KEY``; None when unset; an error when too short."""
    value = (environ if environ is not None else os.environ).get(KEY_VARIABLE, "")
    if not value:
        return None
    if len(value) < MIN_KEY_LENGTH:
        raise MaskingKeyError(
            f"{KEY_VARIABLE} is {len(value)} characters; use at least {MIN_KEY_LENGTH} "
            "random characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return value.encode()


def keyed_hash(value: str | None, key: bytes | None) -> str | None:
    """Hex HMAC-SHA-256 of `value` under `key`; None for a missing value or key."""
    if value is None or key is None:
        return None
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def register_duckdb_udfs(conn: DuckDBPyConnection) -> None:
    """Register ``c360_keyed_hash(text)`` on ``conn`` (idempotent), bound to the key now set."""
    already = conn.sql(
        "select count(*) from duckdb_functions() where function_name = 'c360_keyed_hash'"
    ).fetchall()[0][0]
    if already:
        return
    key = masking_key()
    if key is None:
        log.warning(
            "%s is not set: the masked marts' keyed pseudonyms (emails, phones) are NULL",
            KEY_VARIABLE,
        )
    conn.create_function(
        "c360_keyed_hash",
        lambda value: keyed_hash(value, key),
        [VARCHAR],
        VARCHAR,
        null_handling="special",
        side_effects=False,
    )
