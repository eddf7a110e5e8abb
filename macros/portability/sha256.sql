{#
    Hex SHA-256 of a text expression: what ad platforms take for customer-match
    uploads (of the normalised email or E.164 phone), and how the masked marts hide
    PII while keeping it joinable. DuckDB sha256(), Spark/Databricks sha2(x, 256).
#}
{% macro sha256(expression) -%}
    {{ return(adapter.dispatch('sha256', 'customer_360')(expression)) }}
{%- endmacro %}

{% macro default__sha256(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro spark__sha256(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}
