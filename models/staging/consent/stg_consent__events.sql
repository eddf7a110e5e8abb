with

source as (
    select * from {{ checked_source('consent', 'events') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('event_id') }} as event_id,
        {{ clean_code('customer_id') }} as customer_id,

        -- strings
        {{ normalize_email('email') }} as email,
        {{ clean_text('email') }} as raw_email,
        {{ normalize_phone('phone') }} as phone_e164,
        {{ clean_text('phone') }} as raw_phone,
        {{ parse_enum('channel', ['email', 'sms', 'phone', 'ads']) }} as channel,
        {{ clean_code('channel') }} as raw_channel,
        {{ parse_enum('status', ['granted', 'revoked']) }} as status,
        {{ clean_code('status') }} as raw_status,
        lower({{ clean_code('lawful_basis') }}) as lawful_basis,
        lower({{ clean_code('source_system') }}) as source_system,

        -- timestamps
        {{ parse_timestamp('recorded_at') }} as recorded_at,
        {{ clean_code('recorded_at') }} as raw_recorded_at
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
        event_id,
        customer_id,

        -- strings
        {{ contact_email_columns('email') }},
        {{ contact_phone_columns('phone') }},
        channel,
        status,
        lawful_basis,
        source_system,

        -- booleans
        {{ dq_unparseable('raw_channel', 'channel') }} as dq_channel_unparseable,
        {{ dq_unparseable('raw_status', 'status') }} as dq_status_unparseable,
        {{ dq_unparseable('raw_recorded_at', 'recorded_at') }} as dq_recorded_at_unparseable,

        -- timestamps
        recorded_at
    from flagged
)

select * from final
