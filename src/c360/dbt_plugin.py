"""dbt-duckdb plugin: registers the project's scalar UDFs on every DuckDB connection.

dbt-duckdb calls ``configure_connection`` for each connection it opens, so the
SQL models can call ``c360_phone_e164(raw, region)`` and ``c360_keyed_hash(value)``
like built-in functions. On another engine, register :func:`c360.phones.to_e164` and
:func:`c360.masking.keyed_hash` (with the key bound) under the same names.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from c360 import masking, phones


class Plugin(BasePlugin):
    """Adds the ``c360_*`` UDFs to the connection dbt-duckdb opens."""

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        phones.register_duckdb_udfs(conn)
        masking.register_duckdb_udfs(conn)
