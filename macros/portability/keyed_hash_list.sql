{#
    A list of text with every element replaced by its keyed pseudonym (keyed_hash):
    how the masked marts hide a list of identifiers while keeping each joinable.
    DuckDB list_transform (2.0 lambda syntax), Spark/Databricks transform.
#}
{% macro keyed_hash_list(expression) -%}
    {{ return(adapter.dispatch('keyed_hash_list', 'customer_360')(expression)) }}
{%- endmacro %}

{% macro default__keyed_hash_list(expression) -%}
    list_transform({{ expression }}, lambda element: {{ keyed_hash("element") }})
{%- endmacro %}

{% macro spark__keyed_hash_list(expression) -%}
    transform({{ expression }}, element -> {{ keyed_hash('element') }})
{%- endmacro %}
