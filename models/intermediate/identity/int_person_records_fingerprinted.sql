{#
    Per person record the columns Splink compares and the guards read, and a
    fingerprint of them (c360.identity.incremental.FINGERPRINT_COLUMNS). The
    identity step compares it with the one it stored: a record whose fingerprint
    changed (a corrected email, a name nulled by a set-wide junk rule) is
    re-scored and re-clustered as removed + new. NULL and '' differ (macro
    row_fingerprint).

    A view: scoring hashes every record once per build (clustering then hashes
    only the records it re-clusters), which costs less than writing every
    record's columns to a table each build.
#}
{{ config(materialized='view') }}
{% set fingerprint_columns = [
    'birth_date', 'email_handle', 'email_key', 'first_name_canonical', 'first_name_key',
    'last_name_key', 'person_record_id', 'phone_e164', 'postal_code',
    'postal_code_key', 'street_key', 'street_name_key', 'street_number',
] %}

with

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

final as (
    select
        -- ids
        {{ fingerprint_columns | join(',\n        ') }},

        -- strings
        {{ row_fingerprint(fingerprint_columns) }} as record_fingerprint
    from person_records
)

select * from final
