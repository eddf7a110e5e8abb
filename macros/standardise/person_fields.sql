{#
    The identity fields every person-bearing staging model shares (crm, shop,
    loyalty, support), in three steps so each model keeps the same CTE flow:

        parsed   as (select ..., {{ person_fields(...) }} from source)
        keyed    as (select *, {{ person_keys() }} from parsed)
        flagged  as (select *, {{ person_junk_flags() }} from keyed)
        final    as (select ..., {{ person_columns() }} from flagged)

    Arguments are the raw column names (or expressions) of the source table.
#}
{% macro person_fields(first_name, last_name, email, phone, birth_date=none) -%}
        {{ clean_name(first_name) }} as first_name,
        {{ clean_name(last_name) }} as last_name,
        {{ name_key(first_name) }} as first_name_key,
        {{ name_key(last_name) }} as last_name_key,
        {{ normalize_email(email) }} as email,
        {{ normalize_phone(phone) }} as phone_e164,
        {{ phone_digits(phone) }} as phone_digits,
        {%- if birth_date is not none %}
        {{ parse_date_of_birth(birth_date) }} as birth_date,
        {{ clean_text(birth_date) }} as raw_birth_date,
        {%- endif %}
        {{ clean_text(email) }} as raw_email,
        {{ clean_text(phone) }} as raw_phone
{%- endmacro %}
