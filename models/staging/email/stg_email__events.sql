with

source as (
    select * from {{ checked_source('email', 'events') }}
),

-- each distinct address standardised once (see contact_email_lookup)
emails as (
    {{ contact_email_lookup('source', 'email') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('event_id') }} as event_id,
        {{ clean_code('campaign_id') }} as campaign_id,

        -- strings
        email as source_email,
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
        parsed.event_id,
        parsed.campaign_id,

        -- strings
        emails.email,
        emails.email_key,
        emails.dq_email_unparseable,
        emails.dq_email_junk,
        parsed.event_type,

        -- booleans
        {{ dq_unparseable('parsed.raw_event_type', 'parsed.event_type') }} as dq_event_type_unparseable,
        {{ dq_unparseable('parsed.raw_occurred_at', 'parsed.occurred_at') }} as dq_occurred_at_unparseable,

        -- timestamps
        parsed.occurred_at
    from parsed
    left join emails
        on parsed.source_email is not distinct from emails.source_email
)

select * from final
