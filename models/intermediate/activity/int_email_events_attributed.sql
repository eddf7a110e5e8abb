{#
    Marketing email events with the customer whose email it was sent to, when the
    address (by match key) belongs to exactly one customer. Events to a shared or
    unknown address keep a NULL customer_id.
#}
with

email_events as (
    select * from {{ ref('stg_email__events') }}
),

unique_emails as (
    select * from {{ ref('int_contact_points_mapped') }}
    where contact_point_type = 'email_key' and customer_count = 1
),

final as (
    select
        -- ids
        email_events.event_id,
        unique_emails.customer_id,
        email_events.campaign_id,

        -- strings
        email_events.event_type,

        -- timestamps
        email_events.occurred_at
    from email_events
    left join unique_emails
        on email_events.email_key = unique_emails.contact_point_value
)

select * from final
