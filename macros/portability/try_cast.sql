{#
    Cast that yields NULL instead of failing. dbt.safe_cast compiles to a plain
    cast on dbt-duckdb, which would let one bad value fail the build; try_cast
    exists on DuckDB, Spark/Databricks and Snowflake.
#}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'customer_360')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
