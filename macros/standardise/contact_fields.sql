{#
    Email and phone columns of tables that are not person records (guest
    orders, receipts, consent, privacy requests): standardised like a person's,
    with the seed junk list applied (no names to count for the frequency rule).
    The input CTE holds the parsed value under `name` (email) or
    `name`_e164 (phone) and the cleaned raw text under raw_`name`.
#}
{% macro contact_email_columns(name) -%}
        {%- set is_junk = is_junk_identifier(email_match_key(name), 'email') -%}
        {{ unless_junk(name, is_junk) }} as {{ name }},
        {{ unless_junk(email_match_key(name), is_junk) }} as {{ name }}_key,
        {{ dq_unparseable('raw_' ~ name, name) }} as dq_{{ name }}_unparseable,
        {{ is_junk }} as dq_{{ name }}_junk
{%- endmacro %}

{% macro contact_phone_columns(name) -%}
        {%- set is_junk = is_junk_identifier(phone_digits('raw_' ~ name), 'phone') -%}
        {{ unless_junk(name ~ '_e164', is_junk) }} as {{ name }}_e164,
        {{ dq_unparseable('raw_' ~ name, name ~ '_e164') }} and not {{ is_junk }} as dq_{{ name }}_unparseable,
        {{ is_junk }} as dq_{{ name }}_junk
{%- endmacro %}
