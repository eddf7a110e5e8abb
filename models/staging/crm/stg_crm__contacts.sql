with

source as (
    select * from {{ checked_source('crm', 'contacts') }}
),

parsed as (
    select
        -- ids
        {{ clean_text('contact_id') }} as contact_id,

        -- person identity fields (names, email, phone, date of birth)
        {{ person_fields('first_name', 'last_name', 'email', 'phone', 'birth_date') }},

        -- strings
        {{ clean_text('street_address') }} as street_address,
        {{ street_key('street_address') }} as street_key,
        {{ clean_name('city') }} as city,
        {{ postal_code_key('postal_code') }} as postal_code,
        upper({{ clean_text('country') }}) as country,

        -- booleans
        {{ parse_boolean('is_deleted') }} as is_deleted,
        {{ clean_text('is_deleted') }} as raw_is_deleted,

        -- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('updated_at') }} as updated_at,
        {{ clean_text('created_at') }} as raw_created_at,
        {{ clean_text('updated_at') }} as raw_updated_at
    from source
),

keyed as (
    select
        *,
        {{ person_keys() }}
    from parsed
),

flagged as (
    select
        *,
        {{ person_junk_flags() }}
    from keyed
),

final as (
    select
        -- ids
        contact_id,

        -- person identity fields and their data-quality flags
        {{ person_columns() }},

        -- strings
        street_address,
        street_key,
        city,
        postal_code,
        country,

        -- booleans
        coalesce(is_deleted, false) as is_deleted,
        {{ dq_unparseable('raw_is_deleted', 'is_deleted') }} as dq_is_deleted_unparseable,
        {{ dq_unparseable('raw_created_at', 'created_at') }} as dq_created_at_unparseable,
        {{ dq_unparseable('raw_updated_at', 'updated_at') }} as dq_updated_at_unparseable,

        -- timestamps
        created_at,
        updated_at
    from flagged
)

select * from final
