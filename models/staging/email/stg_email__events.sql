with

source as (
    select * from {{ checked_source('email', 'events') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('event_id') }} as event_id,
        {{ clean_code('campaign_id') }} as campaign_id,

        -- strings
        {{ normalize_email('email') }} as email,
        {{ clean_text('email') }} as raw_email,
        {{ parse_enum('event_type', ['sent', 'open', 'click', 'unsubscribe', 'bounce']) }} as event_type,
        {{ clean_code('event_type') }} as raw_event_type,

        -- timestamps
        {{ parse_timestamp('occurred_at') }} as occurred_at,
        {{ clean_code('occurred_at') }} as raw_occurred_at
    from source
),

final as (
    select
        -- ids
        event_id,
        campaign_id,

        -- strings
        {{ contact_email_columns('email') }},
        event_type,

        -- booleans
        {{ dq_unparseable('raw_event_type', 'event_type') }} as dq_event_type_unparseable,
        {{ dq_unparseable('raw_occurred_at', 'occurred_at') }} as dq_occurred_at_unparseable,

        -- timestamps
        occurred_at
    from parsed
)

select * from final
