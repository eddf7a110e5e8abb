"""customer_360's Python package: the logic that does not belong in SQL.

Data generator (c360.datagen), phone parsing UDF (c360.phones) and the dbt-duckdb plugin
that registers it (c360.dbt_plugin); identity resolution and churn scoring come next.
"""

__version__ = "0.1.0"
