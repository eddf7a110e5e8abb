with

source as (
    select * from {{ checked_source('shop', 'customers') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('customer_id') }} as customer_id,

        -- person identity fields (names, email, phone, date of birth)
        {{ person_fields('first_name', 'last_name', 'email', 'phone', 'date_of_birth') }},

        -- strings
        {{ address_fields('address_line1', 'city', 'postal_code', 'country') }},

        -- booleans
        {{ parse_boolean('accepts_marketing') }} as accepts_marketing,
        {{ clean_code('accepts_marketing') }} as raw_accepts_marketing,

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
        customer_id,

        -- person identity fields and their data-quality flags
        {{ person_columns() }},

        -- strings
        street_address,
        {{ street_key('street_words') }} as street_key,
        city,
        postal_code,
        country,

        -- booleans
        accepts_marketing,
        {{ dq_unparseable('raw_accepts_marketing', 'accepts_marketing') }} as dq_accepts_marketing_unparseable,
        {{ dq_unparseable('raw_created_at', 'created_at') }} as dq_created_at_unparseable,
        {{ dq_unparseable('raw_updated_at', 'updated_at') }} as dq_updated_at_unparseable,

        -- timestamps
        created_at,
        updated_at
    from flagged
)

select * from final
