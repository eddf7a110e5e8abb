"""dbt-duckdb plugin: registers the project's scalar UDFs on every DuckDB connection.

dbt-duckdb calls ``configure_connection`` for each connection it opens, so the
SQL models can call ``c360_phone_e164(raw, region)`` like a built-in function.
On another engine, register :func:`c360.phones.to_e164` under the same name.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from c360.phones import register_duckdb_udfs


class Plugin(BasePlugin):
    """Adds the ``c360_*`` UDFs to the connection dbt-duckdb opens."""

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register_duckdb_udfs(conn)
