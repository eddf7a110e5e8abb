{#
    Whole days from `start` to `end` (dates or timestamps; calendar days, so a
    timestamp counts from its date). dbt.datediff on DuckDB renders one long line
    of timestamp casts; this renders a readable one and falls back to dbt.datediff
    elsewhere.
#}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'customer_360')(start, end)) }}
{%- endmacro %}

{% macro default__days_between(start, end) -%}
    {{ dbt.datediff('cast(' ~ start ~ ' as date)', 'cast(' ~ end ~ ' as date)', 'day') }}
{%- endmacro %}

{% macro duckdb__days_between(start, end) -%}
    date_diff(
            'day', cast({{ start }} as date), cast({{ end }} as date)
        )
{%- endmacro %}
