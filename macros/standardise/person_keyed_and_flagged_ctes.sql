{#
    The two CTEs between parsing and the final select of a person-bearing
    staging model: `keyed` adds the match keys, `flagged` the junk flags (it
    needs the canonical name of every row, hence its own step).
#}
{% macro person_keyed_and_flagged_ctes(parsed_cte='parsed') -%}
keyed as (
    select
        *,
        {{ person_keys() }}
    from {{ parsed_cte }}
),

flagged as (
    select
        *,
        {{ person_junk_flags() }}
    from keyed
)
{%- endmacro %}
