{{ config(materialized='table') }}
{#
    One row per customer, day of activity and day the activity became knowable as
    the customer's: purchases and net revenue by channel, web sessions and product
    views, email opens and clicks. The point-in-time input of churn_features
    (daily grain keeps the snapshot joins small: tens of millions of events become
    a few rows per customer and day). known_from_date is the activity's own day,
    except for an anonymous web session stitched through a later login: then it
    is the login's day, and a snapshot before it must not count the session.
#}
with

orders as (
    select * from {{ ref('int_orders_attributed') }}
    where customer_id is not null and ordered_at is not null
),

web_sessions as (
    select * from {{ ref('int_web_sessions_stitched') }}
    where customer_id is not null
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null and occurred_at is not null
),

activity as (
    select
        customer_id,
        cast(ordered_at as date) as activity_date,
        cast(ordered_at as date) as known_from_date,
        case when is_purchase then 1 else 0 end as purchases,
        case when is_purchase and channel = 'in_store' then 1 else 0 end as in_store_purchases,
        coalesce(net_revenue, 0) as net_revenue,
        0 as web_sessions,
        0 as product_views,
        0 as email_opens,
        0 as email_clicks
    from orders
    union all
    select
        customer_id,
        cast(started_at as date) as activity_date,
        cast(identified_at as date) as known_from_date,
        0 as purchases,
        0 as in_store_purchases,
        0 as net_revenue,
        1 as web_sessions,
        product_views,
        0 as email_opens,
        0 as email_clicks
    from web_sessions
    union all
    select
        customer_id,
        cast(occurred_at as date) as activity_date,
        cast(occurred_at as date) as known_from_date,
        0 as purchases,
        0 as in_store_purchases,
        0 as net_revenue,
        0 as web_sessions,
        0 as product_views,
        case when event_type = 'open' then 1 else 0 end as email_opens,
        case when event_type = 'click' then 1 else 0 end as email_clicks
    from email_events
    where event_type in ('open', 'click')
),

final as (
    select
        -- ids
        customer_id,

        -- numerics
        cast(sum(purchases) as {{ dbt.type_bigint() }}) as purchases,
        cast(sum(in_store_purchases) as {{ dbt.type_bigint() }}) as in_store_purchases,
        cast(sum(net_revenue) as double) as net_revenue,
        cast(sum(web_sessions) as {{ dbt.type_bigint() }}) as web_sessions,
        cast(sum(product_views) as {{ dbt.type_bigint() }}) as product_views,
        cast(sum(email_opens) as {{ dbt.type_bigint() }}) as email_opens,
        cast(sum(email_clicks) as {{ dbt.type_bigint() }}) as email_clicks,

        -- dates
        activity_date,
        known_from_date
    from activity
    group by customer_id, activity_date, known_from_date
)

select * from final
