{#
    Aggregate: the value of `expression` on the row where `order_by` is largest
    ("the running total on the latest day"). DuckDB calls it arg_max; Spark,
    Databricks, Snowflake and Trino call it max_by.
#}
{% macro value_at_max(expression, order_by) -%}
    {{ return(adapter.dispatch('value_at_max', 'customer_360')(expression, order_by)) }}
{%- endmacro %}

{% macro default__value_at_max(expression, order_by) -%}
    max_by({{ expression }}, {{ order_by }})
{%- endmacro %}

{% macro duckdb__value_at_max(expression, order_by) -%}
    arg_max({{ expression }}, {{ order_by }})
{%- endmacro %}
