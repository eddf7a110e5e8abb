{#
    A lookup of contact_email_columns(`column`) for each distinct raw value of
    `column` in `relation`, keyed by source_`column` (NULL included, so join it
    with `is not distinct from` and every row finds its one match). Event tables
    repeat the same address on many rows (an email event table holds far fewer
    distinct addresses than events): standardising each address once, then
    joining, is cheaper than running the regexes and the junk lookup on every row.
#}
{% macro contact_email_lookup(relation, column) -%}
    select
        source_{{ column }},
        {{ contact_email_columns(column) }}
    from (
        select
            *,
            {{ contact_email_junk(column) }}
        from (
            select
                source_{{ column }},
                {{ normalize_email('source_' ~ column) }} as {{ column }},
                {{ clean_text('source_' ~ column) }} as raw_{{ column }}
            from (select distinct {{ column }} as source_{{ column }} from {{ relation }}) as distinct_values
        ) as parsed
    ) as flagged
{%- endmacro %}
