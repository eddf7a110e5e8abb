with

source as (
    select * from {{ checked_source('privacy', 'requests') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('request_id') }} as request_id,

        -- strings
        {{ parse_enum('request_type', ['erasure', 'access']) }} as request_type,
        {{ clean_code('request_type') }} as raw_request_type,
        {{ normalize_email('email') }} as email,
        {{ clean_text('email') }} as raw_email,
        {{ normalize_phone('phone') }} as phone_e164,
        {{ clean_text('phone') }} as raw_phone,
        lower({{ clean_code('status') }}) as status,

        -- timestamps
        {{ parse_timestamp('received_at') }} as received_at,
        {{ clean_code('received_at') }} as raw_received_at
    from source
),

flagged as (
    select
        *,
        {{ contact_email_junk('email') }},
        {{ contact_phone_junk('phone') }}
    from parsed
),

final as (
    select
        -- ids
        request_id,

        -- strings
        request_type,
        {{ contact_email_columns('email') }},
        {{ contact_phone_columns('phone') }},
        status,

        -- booleans
        {{ dq_unparseable('raw_request_type', 'request_type') }} as dq_request_type_unparseable,
        {{ dq_unparseable('raw_received_at', 'received_at') }} as dq_received_at_unparseable,

        -- timestamps
        received_at
    from flagged
)

select * from final
