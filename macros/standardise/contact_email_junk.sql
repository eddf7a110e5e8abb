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
