{#
    Web and email engagement per customer and snapshot (int_churn_snapshots, the
    latest on the as-of date), from the 180 days of activity before the snapshot:
    sessions, product views, email opens and clicks over the last 30 and 90 days and
    the 90 days before those (for trends), and the day of the last web session. Only
    activity knowable before the snapshot counts (an anonymous session stitched
    through a later login counts from the login's day). One row per customer and
    snapshot with any such activity. Read by int_churn_features, and by
    int_customer_activity_summarised (for customer_360) for its as-of row: the
    windows are computed here only.
#}
with

snapshots as (
    select * from {{ ref('int_churn_snapshots') }}
),

daily_activity as (
    select * from {{ ref('int_customer_daily_activity') }}
),

final as (
    select
        -- ids
        activity.customer_id,

        -- numerics
        {{ window_sum('activity.web_sessions', 30) }} as web_sessions_30d,
        {{ window_sum('activity.web_sessions', 90) }} as web_sessions_90d,
        {{ window_sum('activity.web_sessions', 180, 90) }} as web_sessions_prior_90d,
        {{ window_sum('activity.product_views', 30) }} as product_views_30d,
        {{ window_sum('activity.product_views', 90) }} as product_views_90d,
        {{ window_sum('activity.email_opens', 90) }} as email_opens_90d,
        {{ window_sum('activity.email_clicks', 90) }} as email_clicks_90d,
        {{ window_sum('activity.email_opens', 180, 90) }} as email_opens_prior_90d,

        -- dates
        max(case when activity.web_sessions > 0 then activity.activity_date end) as last_web_session_date,
        snapshots.snapshot_date
    from snapshots
    inner join daily_activity as activity
        on
            snapshots.snapshot_date > activity.activity_date
            and snapshots.snapshot_date > activity.known_from_date
            and {{ dbt.dateadd('day', -180, 'snapshots.snapshot_date') }} <= activity.activity_date
    where activity.web_sessions > 0 or activity.email_opens > 0 or activity.email_clicks > 0
    group by snapshots.snapshot_date, activity.customer_id
)

select * from final
