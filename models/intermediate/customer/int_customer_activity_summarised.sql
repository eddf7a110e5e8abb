{#
    What each customer did, one row per customer of int_customer_identifiers_collected:
    commerce, loyalty, service and engagement (with the 30/90-day windows of the
    as-of snapshot, the same ones the churn features use), zero where there was none,
    and the lifecycle they span. Gathered here so that customer_360 reads one
    activity model, not five.
#}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers_collected') }}
),

commerce as (
    select * from {{ ref('int_customer_commerce_summarised') }}
),

loyalty as (
    select * from {{ ref('int_customer_loyalty_summarised') }}
),

service as (
    select * from {{ ref('int_customer_service_summarised') }}
),

engagement as (
    select * from {{ ref('int_customer_engagement_summarised') }}
),

engagement_snapshots as (
    select * from {{ ref('int_customer_engagement_snapshotted') }}
),

-- the engagement windows of the as-of snapshot, the same ones the churn features use
engagement_windows as (
    select engagement_snapshots.*
    from engagement_snapshots
    inner join as_of
        on engagement_snapshots.snapshot_date = as_of.as_of_date
),

lifecycle as (
    select
        identifiers.customer_id,
        -- least/greatest exist on DuckDB, Spark, Snowflake and BigQuery alike
        least(
            identifiers.records_first_seen_at,
            coalesce(commerce.first_order_at, identifiers.records_first_seen_at)
        ) as first_seen_at,
        greatest(
            identifiers.records_last_seen_at,
            coalesce(commerce.last_order_at, identifiers.records_last_seen_at),
            coalesce(service.last_ticket_at, identifiers.records_last_seen_at),
            coalesce(engagement.last_web_session_at, identifiers.records_last_seen_at)
        ) as last_seen_at
    from identifiers
    left join commerce
        on identifiers.customer_id = commerce.customer_id
    left join service
        on identifiers.customer_id = service.customer_id
    left join engagement
        on identifiers.customer_id = engagement.customer_id
),

final as (
    select
        -- ids
        identifiers.customer_id,

        -- commerce
        coalesce(commerce.purchase_count, 0) as purchase_count,
        coalesce(commerce.online_purchase_count, 0) as online_purchase_count,
        coalesce(commerce.in_store_purchase_count, 0) as in_store_purchase_count,
        coalesce(commerce.cancelled_or_refunded_count, 0) as cancelled_or_refunded_count,
        coalesce(commerce.net_revenue, 0) as net_revenue,
        coalesce(commerce.online_net_revenue, 0) as online_net_revenue,
        coalesce(commerce.in_store_net_revenue, 0) as in_store_net_revenue,
        commerce.average_order_value,
        commerce.favourite_category,
        commerce.first_purchase_at,
        commerce.last_purchase_at,
        cast(commerce.last_purchase_at as date) as last_order_date,

        -- loyalty
        loyalty.loyalty_tier,
        loyalty.loyalty_tier_rank,
        coalesce(loyalty.loyalty_points, 0) as loyalty_points,
        coalesce(loyalty.is_loyalty_active, false) as is_loyalty_member,

        -- service
        coalesce(service.ticket_count, 0) as ticket_count,
        coalesce(service.open_ticket_count, 0) as open_ticket_count,
        coalesce(service.complaint_count, 0) as complaint_count,
        service.last_complaint_at,
        service.is_last_complaint_resolved,
        service.average_satisfaction_score,

        -- engagement
        coalesce(engagement_windows.web_sessions_30d, 0) as web_sessions_30d,
        coalesce(engagement_windows.web_sessions_90d, 0) as web_sessions_90d,
        coalesce(engagement_windows.product_views_30d, 0) as product_views_30d,
        coalesce(engagement_windows.product_views_90d, 0) as product_views_90d,
        coalesce(engagement.stitched_web_sessions, 0) as stitched_web_sessions,
        coalesce(engagement_windows.email_opens_90d, 0) as email_opens_90d,
        coalesce(engagement_windows.email_clicks_90d, 0) as email_clicks_90d,
        coalesce(engagement.email_opens_total, 0) as email_opens_total,
        coalesce(engagement.email_clicks_total, 0) as email_clicks_total,
        engagement.last_web_session_at,
        engagement.last_email_open_at,

        -- lifecycle
        lifecycle.first_seen_at,
        lifecycle.last_seen_at,
        {{ days_between('lifecycle.first_seen_at', 'as_of.as_of_date') }} as tenure_days
    from identifiers
    cross join as_of
    left join lifecycle
        on identifiers.customer_id = lifecycle.customer_id
    left join commerce
        on identifiers.customer_id = commerce.customer_id
    left join loyalty
        on identifiers.customer_id = loyalty.customer_id
    left join service
        on identifiers.customer_id = service.customer_id
    left join engagement
        on identifiers.customer_id = engagement.customer_id
    left join engagement_windows
        on identifiers.customer_id = engagement_windows.customer_id
)

select * from final
