{{ config(materialized='table') }}
{#
    Web sessions (a gap of more than var('web_session_gap_minutes') between two
    events of a device starts a new one) with their customer. Identity stitching
    (source contract): a device's anonymous events belong to the customer of any
    shop account it logged into, so sessions from before the first login count
    too. A device that carried accounts of several customers (a family computer)
    is not stitched: only its logged-in sessions are attributed.
    Events whose timestamp did not parse cannot be placed in a session; they are
    counted in source_data_quality.
#}
with

web_events as (
    select * from {{ ref('stg_web__events') }}
    where occurred_at is not null
),

shop_accounts as (
    select * from {{ ref('int_contact_points_mapped') }}
    where contact_point_type = 'shop_customer_id'
),

events as (
    select
        web_events.*,
        -- events without a device id are sessionised per account, or alone
        coalesce(
            web_events.anonymous_id,
            {{ dbt.concat(["'account:'", 'web_events.customer_id']) }},
            {{ dbt.concat(["'event:'", 'web_events.event_id']) }}
        ) as device_key,
        shop_accounts.customer_id as logged_in_customer_id
    from web_events
    left join shop_accounts
        on web_events.customer_id = shop_accounts.contact_point_value
),

device_customers as (
    select
        device_key,
        min(logged_in_customer_id) as customer_id
    from events
    where logged_in_customer_id is not null
    group by device_key
    having count(distinct logged_in_customer_id) = 1
),

gaps as (
    select
        *,
        case
            when
                lag(occurred_at) over (partition by device_key order by occurred_at, event_id) is null
                or {{ dbt.datediff(
                    'lag(occurred_at) over (partition by device_key order by occurred_at, event_id)',
                    'occurred_at', 'minute') }} > {{ var('web_session_gap_minutes') }}
                then 1
            else 0
        end as is_session_start
    from events
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by device_key order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps
),

sessions as (
    select
        device_key,
        session_number,
        min(anonymous_id) as anonymous_id,
        -- a session that switched accounts keeps the first one, deterministically
        min(logged_in_customer_id) as logged_in_customer_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        sum(case when event_type = 'page_view' then 1 else 0 end) as page_views,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_views,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_carts,
        sum(case when event_type = 'login' then 1 else 0 end) as logins
    from numbered
    group by device_key, session_number
),

final as (
    select
        -- ids
        {{ dbt.concat(['sessions.device_key', "'#'", 'cast(sessions.session_number as ' ~ dbt.type_string() ~ ')']) }}
            as web_session_id,
        coalesce(sessions.logged_in_customer_id, device_customers.customer_id) as customer_id,
        sessions.anonymous_id,

        -- numerics
        sessions.event_count,
        sessions.page_views,
        sessions.product_views,
        sessions.add_to_carts,
        sessions.logins,

        -- booleans
        sessions.logged_in_customer_id is null and device_customers.customer_id is not null as is_stitched,

        -- timestamps
        sessions.started_at,
        sessions.ended_at
    from sessions
    left join device_customers
        on sessions.device_key = device_customers.device_key
)

select * from final
