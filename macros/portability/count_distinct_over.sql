{#
    count(distinct x) over (partition by ...): DuckDB and most warehouses accept
    it; Spark does not, so its variant counts the distinct set instead.
#}
{% macro count_distinct_over(expression, partition_by) -%}
    {{ return(adapter.dispatch('count_distinct_over', 'customer_360')(expression, partition_by)) }}
{%- endmacro %}

{% macro default__count_distinct_over(expression, partition_by) -%}
    count(distinct {{ expression }}) over (partition by {{ partition_by }})
{%- endmacro %}

{% macro spark__count_distinct_over(expression, partition_by) -%}
    size(collect_set({{ expression }}) over (partition by {{ partition_by }}))
{%- endmacro %}
