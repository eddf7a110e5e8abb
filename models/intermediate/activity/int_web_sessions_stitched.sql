{{ config(materialized='table') }}
{#
    Web sessions (a gap of more than var('web_session_gap_minutes') between two
    events of a device starts a new one) with their customer. Identity stitching
    (source contract): a device's anonymous sessions belong to the customer whose
    account it logged into: the last login before the session, else the first one
    after it (so browsing before a first login counts, and a family computer's
    anonymous sessions go to whoever was logged in last). identified_at is when
    that became knowable (the login's time), which is what keeps churn features
    point in time. Events whose timestamp did not parse cannot be placed in a
    session; they are counted in source_data_quality.
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

-- only what sessions need, as small as it can be: the window functions below sort
-- every web event with every column they carry. The event type travels as four flags
-- and the device id as one (the device key is the device id whenever there is one),
-- because booleans are cheaper to carry through two sorts than strings.
events as (
    select
        web_events.anonymous_id is not null as has_anonymous_id,
        web_events.event_type = 'page_view' as is_page_view,
        web_events.event_type = 'product_view' as is_product_view,
        web_events.event_type = 'add_to_cart' as is_add_to_cart,
        web_events.event_type = 'login' as is_login,
        web_events.occurred_at,
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

-- Ordered by time alone, no tie-breaking event_id (it would add a string to both
-- sort keys, which are over every web event). Events of
-- a device at the same instant are 0 minutes apart, so at most the first of them,
-- in whatever order, starts a session; the running count below is over a range
-- frame, which counts every event of that instant at once, so all of them get the
-- same session number however either sort ordered them.
previous as (
    select
        *,
        lag(occurred_at) over (partition by device_key order by occurred_at) as previous_at
    from events
),

gaps as (
    select
        *,
        case
            when
                previous_at is null
                or occurred_at > {{ dbt.dateadd('minute', checked_var('web_session_gap_minutes'), 'previous_at') }}
                then 1
            else 0
        end as is_session_start
    from previous
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by device_key order by occurred_at
            range between unbounded preceding and current row
        ) as session_number
    from gaps
),

sessions as (
    select
        device_key,
        session_number,
        min(case when has_anonymous_id then device_key end) as anonymous_id,
        -- a session that switched accounts keeps the first one, deterministically
        min(logged_in_customer_id) as logged_in_customer_id,
        min(case when logged_in_customer_id is not null then occurred_at end) as logged_in_at,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        count(case when is_page_view then 1 end) as page_views,
        count(case when is_product_view then 1 end) as product_views,
        count(case when is_add_to_cart then 1 end) as add_to_carts,
        count(case when is_login then 1 end) as logins
    from numbered
    group by device_key, session_number
),

-- the customer of the device's last login session up to this one, and of its first
-- login session from this one on: one sort of the sessions serves all three. A
-- device's session numbers follow its start times (a session starts after the
-- previous one ended), so the number alone orders them.
carried as (
    select
        *,
        {{ value_ignoring_nulls('last', 'logged_in_customer_id') }} over (
            partition by device_key order by session_number
            rows between unbounded preceding and current row
        ) as previous_login_customer_id,
        {{ value_ignoring_nulls('first', 'logged_in_customer_id') }} over (
            partition by device_key order by session_number
            rows between current row and unbounded following
        ) as next_login_customer_id,
        {{ value_ignoring_nulls('first', 'logged_in_at') }} over (
            partition by device_key order by session_number
            rows between current row and unbounded following
        ) as next_logged_in_at
    from sessions
),

final as (
    select
        -- ids
        {{ dbt.concat(['device_key', "'#'", 'cast(session_number as ' ~ dbt.type_string() ~ ')']) }}
            as web_session_id,
        coalesce(logged_in_customer_id, previous_login_customer_id, next_login_customer_id) as customer_id,
        anonymous_id,

        -- numerics
        event_count,
        page_views,
        product_views,
        add_to_carts,
        logins,

        -- booleans
        logged_in_customer_id is null
        and coalesce(previous_login_customer_id, next_login_customer_id) is not null as is_stitched,

        -- timestamps
        started_at,
        ended_at,
        case
            when logged_in_customer_id is not null then logged_in_at
            when previous_login_customer_id is not null then started_at
            else next_logged_in_at
        end as identified_at
    from carried
)

select * from final
