{#
    Web and email engagement per customer over everything before the as-of date:
    web sessions (anonymous ones stitched to the customer, see
    int_web_sessions_stitched) and how many were stitched, email opens and clicks,
    and the last session and open. The windows (last 30 and 90 days) are computed
    once, per snapshot, in int_customer_engagement_snapshotted.
#}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

web_sessions as (
    select * from {{ ref('int_web_sessions_stitched') }}
    where customer_id is not null
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null
),

web as (
    select
        web_sessions.customer_id,
        count(*) as web_sessions_total,
        count(case when web_sessions.is_stitched then 1 end) as stitched_web_sessions,
        max(web_sessions.started_at) as last_web_session_at
    from web_sessions
    cross join as_of
    where web_sessions.started_at < as_of.as_of_date
    group by web_sessions.customer_id
),

email as (
    select
        email_events.customer_id,
        count(case when email_events.event_type = 'open' then 1 end) as email_opens_total,
        count(case when email_events.event_type = 'click' then 1 end) as email_clicks_total,
        max(case when email_events.event_type = 'open' then email_events.occurred_at end) as last_email_open_at
    from email_events
    cross join as_of
    where email_events.occurred_at < as_of.as_of_date
    group by email_events.customer_id
),

customers as (
    select customer_id from web
    union
    select customer_id from email
),

final as (
    select
        -- ids
        customers.customer_id,

        -- numerics
        coalesce(web.web_sessions_total, 0) as web_sessions_total,
        coalesce(web.stitched_web_sessions, 0) as stitched_web_sessions,
        coalesce(email.email_opens_total, 0) as email_opens_total,
        coalesce(email.email_clicks_total, 0) as email_clicks_total,

        -- timestamps
        web.last_web_session_at,
        email.last_email_open_at
    from customers
    left join web
        on customers.customer_id = web.customer_id
    left join email
        on customers.customer_id = email.customer_id
)

select * from final
