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

{# Keys that need the parsed fields: email match key, nickname-canonical first name. #}
{% macro person_keys() -%}
        {{ email_match_key('email') }} as email_key,
        {{ canonical_first_name('first_name_key') }} as first_name_canonical
{%- endmacro %}

{# Junk flags for the email and the phone (seed list or frequency rule). #}
{% macro person_junk_flags() -%}
        {%- set person = person_name_key('first_name_canonical', 'last_name_key') -%}
        {{ is_junk_identifier('email_key', 'email', person) }} as is_email_junk,
        {{ is_junk_identifier('phone_digits', 'phone', person) }} as is_phone_junk
{%- endmacro %}

{# The standardised identity columns, junk nulled, with their data-quality flags. #}
{% macro person_columns(with_birth_date=true) -%}
        first_name,
        last_name,
        first_name_key,
        first_name_canonical,
        last_name_key,
        {{ unless_junk('email', 'is_email_junk') }} as email,
        {{ unless_junk('email_key', 'is_email_junk') }} as email_key,
        {{ unless_junk('phone_e164', 'is_phone_junk') }} as phone_e164,
        {%- if with_birth_date %}
        birth_date,
        {{ dq_unparseable('raw_birth_date', 'birth_date') }} as dq_birth_date_unparseable,
        {%- endif %}
        {{ dq_unparseable('raw_email', 'email') }} as dq_email_unparseable,
        is_email_junk as dq_email_junk,
        {{ dq_unparseable('raw_phone', 'phone_e164') }} and not is_phone_junk as dq_phone_unparseable,
        is_phone_junk as dq_phone_junk
{%- endmacro %}

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

{# Postal address fields for display and matching (street, city, postal code, country). #}
{% macro address_fields(street, city, postal_code, country) -%}
        {{ clean_text(street) }} as street_address,
        {{ street_words(street) }} as street_words,
        {{ clean_name(city) }} as city,
        {{ postal_code_key(postal_code) }} as postal_code,
        upper({{ clean_text(country) }}) as country
{%- endmacro %}
