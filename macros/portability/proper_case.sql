{# Capitalise each word ('mARY ann' -> 'Mary Ann'); DuckDB has no initcap(). #}
{% macro proper_case(expression) -%}
    {{ return(adapter.dispatch('proper_case', 'customer_360')(expression)) }}
{%- endmacro %}

{% macro default__proper_case(expression) -%}
    initcap({{ expression }})
{%- endmacro %}

{% macro duckdb__proper_case(expression) -%}
    array_to_string(
        list_transform(string_split(lower({{ expression }}), ' '), lambda word: upper(word[1]) || word[2:]),
        ' '
    )
{%- endmacro %}
