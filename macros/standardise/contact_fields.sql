{#
    Email and phone columns of tables that are not person records (guest
    orders, receipts, consent, privacy requests): standardised like a person's,
    with the seed junk list applied (no names to count for the frequency rule).
    Two steps, like the person-bearing staging models:

        parsed   as (select ..., <email>, raw_<email>, <phone>_e164, raw_<phone> from source)
        flagged  as (select *, {{ contact_email_junk('<email>') }}, ... from parsed)
        final    as (select ..., {{ contact_email_columns('<email>') }}, ... from flagged)

    The junk flag is its own column because three output columns need it: written
    inline in each, the seed lookup ran once per use (a hash join over every row
    each time).
#}
{% macro contact_email_junk(name) -%}
    {{ is_junk_identifier(email_match_key(name), 'email') }} as is_{{ name }}_junk
{%- endmacro %}

{% macro contact_phone_junk(name) -%}
    {{ is_junk_identifier(phone_digits('raw_' ~ name), 'phone') }} as is_{{ name }}_junk
{%- endmacro %}

{% macro contact_email_columns(name) -%}
        {%- set is_junk = 'is_' ~ name ~ '_junk' -%}
        {{ unless_junk(name, is_junk) }} as {{ name }},
        {{ unless_junk(email_match_key(name), is_junk) }} as {{ name }}_key,
        {{ dq_unparseable('raw_' ~ name, name) }} as dq_{{ name }}_unparseable,
        {{ is_junk }} as dq_{{ name }}_junk
{%- endmacro %}

{% macro contact_phone_columns(name) -%}
        {%- set is_junk = 'is_' ~ name ~ '_junk' -%}
        {{ unless_junk(name ~ '_e164', is_junk) }} as {{ name }}_e164,
        {{ dq_unparseable('raw_' ~ name, name ~ '_e164') }} and not {{ is_junk }} as dq_{{ name }}_unparseable,
        {{ is_junk }} as dq_{{ name }}_junk
{%- endmacro %}

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
