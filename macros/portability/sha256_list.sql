{#
    A list of text with every element replaced by its hex SHA-256 (sha256 macro):
    how the masked marts hide a list of identifiers while keeping each joinable.
    DuckDB list_transform (2.0 lambda syntax), Spark/Databricks transform.
#}
{% macro sha256_list(expression) -%}
    {{ return(adapter.dispatch('sha256_list', 'customer_360')(expression)) }}
{%- endmacro %}

{% macro default__sha256_list(expression) -%}
    list_transform({{ expression }}, lambda element: {{ sha256("element") }})
{%- endmacro %}

{% macro spark__sha256_list(expression) -%}
    transform({{ expression }}, element -> {{ sha256('element') }})
{%- endmacro %}
