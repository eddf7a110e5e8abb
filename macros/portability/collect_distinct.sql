{#
    The sorted list of distinct non-null values of `expression` in a group:
    DuckDB's list(distinct ... order by ...), Spark's array_sort(collect_set(...)).
    Sorted so a customer's identifier lists are the same on every build.
#}
{% macro collect_distinct(expression) -%}
    {{ return(adapter.dispatch('collect_distinct', 'customer_360')(expression)) }}
{%- endmacro %}

{% macro default__collect_distinct(expression) -%}
    list(distinct {{ expression }} order by {{ expression }}) filter (where {{ expression }} is not null)
{%- endmacro %}

{% macro spark__collect_distinct(expression) -%}
    array_sort(collect_set({{ expression }}))
{%- endmacro %}

{#
    DuckDB: list(distinct ... order by ...) sorts every list aggregate separately
    inside the group by; collecting plainly and deduplicating and sorting each
    list afterwards gives the same lists (NULL when the group has no value, as the
    filter leaves list() nothing to collect) in less time, since one sort per list
    replaces a sort per aggregate.
#}
{% macro duckdb__collect_distinct(expression) -%}
    list_sort(list_distinct(list({{ expression }}) filter (where {{ expression }} is not null)))
{%- endmacro %}
