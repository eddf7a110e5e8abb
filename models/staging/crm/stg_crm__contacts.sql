with

source as (
    select * from {{ checked_source('crm', 'contacts') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('contact_id') }} as contact_id,

        -- person identity fields (names, email, phone, date of birth)
        {{ person_fields('first_name', 'last_name', 'email', 'phone', 'birth_date') }},

        -- strings
        {{ address_fields('street_address', 'city', 'postal_code', 'country') }},

        -- booleans
        {{ parse_boolean('is_deleted') }} as is_deleted,
        {{ clean_code('is_deleted') }} as raw_is_deleted,

        -- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('updated_at') }} as updated_at,
        {{ clean_code('created_at') }} as raw_created_at,
        {{ clean_code('updated_at') }} as raw_updated_at
    from source
),

{{ person_keyed_and_flagged_ctes('parsed') }},

final as (
    select
        -- ids
        contact_id,

        -- person identity fields and their data-quality flags
        {{ person_columns() }},

        -- strings
        street_address,
        {{ street_key('street_words') }} as street_key,
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
