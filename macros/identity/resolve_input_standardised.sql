{#
    The match columns of incoming records, standardised by the same macros staging
    and int_person_records_unioned apply (name keys, nickname canonical, email key
    and numbered handle, E.164 phone, date of birth, street and postal keys, junk
    identifiers) so a resolved record is compared exactly as the build compared its
    person records. `input_relation` has the raw text
    columns full_name, first_name, last_name, email, phone, birth_date,
    street_address and postal_code; a full name fills a missing first or last name
    the way support tickets' requester names are split.
#}
{% macro resolve_input_standardised(input_relation) -%}
with

source as (
    select
        input_id,
        coalesce(first_name, {{ first_word('full_name') }}) as first_name,
        coalesce(last_name, {{ after_first_word('full_name') }}) as last_name,
        email,
        phone,
        birth_date,
        street_address,
        postal_code,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country
    from {{ input_relation }}
),

parsed as (
    select
        input_id,
        {{ person_fields('first_name', 'last_name', 'email', 'phone', 'birth_date') }},
        {{ address_fields('street_address', 'city', 'postal_code', 'country') }}
    from source
),

{{ person_keyed_and_flagged_ctes('parsed') }},

standardised as (
    select
        input_id,
        {{ person_columns() }},
        {{ street_key('street_words') }} as street_key,
        postal_code
    from flagged
),

final as (
    select
        input_id,
        first_name_key,
        first_name_canonical,
        last_name_key,
        email_key,
        {{ email_handle('email_key') }} as email_handle,
        phone_e164,
        birth_date,
        postal_code,
        {{ postal_code_match_key('postal_code') }} as postal_code_key,
        street_key,
        {{ street_number('street_key') }} as street_number,
        {{ street_name_key('street_key') }} as street_name_key,
        dq_birth_date_unparseable,
        dq_email_unparseable,
        dq_email_junk,
        dq_phone_unparseable,
        dq_phone_junk
    from standardised
)

select * from final
{%- endmacro %}
