with

source as (
    select * from {{ checked_source('loyalty', 'members') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('member_id') }} as member_id,
        upper({{ regexp_replace_all(clean_code('card_number'), '[^A-Za-z0-9]', '') }}) as card_number,

        -- person identity fields (names, email, phone, date of birth)
        {{ person_fields('first_name', 'last_name', 'email', 'phone', 'birth_date') }},

        -- strings
        {{ postal_code_key('postal_code') }} as postal_code,
        lower({{ clean_code('tier') }}) as tier,
        {{ parse_enum('status', ['active', 'closed']) }} as status,
        {{ clean_code('status') }} as raw_status,

        -- numerics
        {{ parse_integer('points_balance') }} as points_balance,
        {{ clean_code('points_balance') }} as raw_points_balance,

        -- timestamps
        {{ parse_timestamp('enrolled_at') }} as enrolled_at,
        {{ parse_timestamp('updated_at') }} as updated_at,
        {{ clean_code('enrolled_at') }} as raw_enrolled_at,
        {{ clean_code('updated_at') }} as raw_updated_at
    from source
),

{{ person_keyed_and_flagged_ctes('parsed') }},

final as (
    select
        -- ids
        member_id,
        card_number,

        -- person identity fields and their data-quality flags
        {{ person_columns() }},

        -- strings
        postal_code,
        tier,
        status,

        -- numerics
        points_balance,

        -- booleans
        {{ dq_unparseable('raw_status', 'status') }} as dq_status_unparseable,
        {{ dq_unparseable('raw_points_balance', 'points_balance') }} as dq_points_balance_unparseable,
        {{ dq_unparseable('raw_enrolled_at', 'enrolled_at') }} as dq_enrolled_at_unparseable,
        {{ dq_unparseable('raw_updated_at', 'updated_at') }} as dq_updated_at_unparseable,

        -- timestamps
        enrolled_at,
        updated_at
    from flagged
)

select * from final
