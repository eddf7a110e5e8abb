{#
    Point-in-time churn features: one row per customer per monthly snapshot
    (int_churn_snapshots) for customers with a purchase in the 365 days before
    it. Every feature is computed from events dated strictly before the snapshot
    (each join below says so), so past snapshots can train a model that scores
    the latest one. The label "no purchase in the next var('churn_horizon_days')
    days" is set only when the whole horizon lies before the as-of date.
    Loyalty tier: the source keeps only a member's current tier, so a snapshot
    sees it only if the membership was last updated before the snapshot. Customers
    with an erasure request are left out, so no churn model ever trains on them.
    Published as churn_features.
#}
{%- set channels = ['email', 'sms', 'phone', 'ads'] -%}
with

snapshots as (
    select * from {{ ref('int_churn_snapshots') }}
),

daily_activity as (
    select * from {{ ref('int_customer_daily_activity') }}
),

engagement as (
    select * from {{ ref('int_customer_engagement_snapshotted') }}
),

tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
    where customer_id is not null and created_at is not null
),

consent_spans as (
    select * from {{ ref('int_consent_events_sequenced') }}
),

loyalty_members as (
    select * from {{ ref('stg_loyalty__members') }}
),

loyalty_identifiers as (
    select * from {{ ref('int_person_records_resolved') }}
    where source_system = 'loyalty'
),

loyalty_tiers as (
    select * from {{ ref('loyalty_tiers') }}
),

-- purchase days, each with the customer's running totals up to and including it
purchase_days as (
    select
        customer_id,
        activity_date,
        purchases,
        in_store_purchases,
        net_revenue,
        min(case when purchases > 0 then activity_date end) over (partition by customer_id)
            as first_purchase_date,
        sum(purchases) over (
            partition by customer_id order by activity_date rows between unbounded preceding and current row
        ) as orders_to_date,
        sum(net_revenue) over (
            partition by customer_id order by activity_date rows between unbounded preceding and current row
        ) as revenue_to_date
    from daily_activity
    where purchases > 0 or net_revenue != 0
),

-- purchases in the 365 days before the snapshot. Only customers with a purchase in
-- that window are scored (population), so the window also holds their latest purchase
-- day before the snapshot, whose running totals are the lifetime figures, and their
-- first purchase is before the snapshot. Only a year of history is joined to each
-- snapshot, not all of it, which keeps this join to a fraction of the events.
purchase_history as (
    select
        snapshots.snapshot_date,
        activity.customer_id,
        min(activity.first_purchase_date) as first_purchase_date,
        max(case when activity.purchases > 0 then activity.activity_date end) as last_purchase_date,
        cast(
            {{ value_at_max('activity.orders_to_date', 'activity.activity_date') }} as {{ dbt.type_bigint() }}
        ) as orders_lifetime,
        round({{ value_at_max('activity.revenue_to_date', 'activity.activity_date') }}, 6) as revenue_lifetime,
        {{ window_sum('activity.purchases', 30) }} as orders_30d,
        {{ window_sum('activity.purchases', 90) }} as orders_90d,
        {{ window_sum('activity.purchases', 180) }} as orders_180d,
        {{ window_sum('activity.purchases', 365) }} as orders_365d,
        {{ window_sum('activity.purchases', 180, 90) }} as orders_prior_90d,
        {{ window_sum('activity.net_revenue', 30, data_type='double', decimals=6) }} as revenue_30d,
        {{ window_sum('activity.net_revenue', 90, data_type='double', decimals=6) }} as revenue_90d,
        {{ window_sum('activity.net_revenue', 180, data_type='double', decimals=6) }} as revenue_180d,
        {{ window_sum('activity.net_revenue', 365, data_type='double', decimals=6) }} as revenue_365d,
        {{ window_sum('activity.net_revenue', 180, 90, data_type='double', decimals=6) }} as revenue_prior_90d,
        {{ window_sum('activity.in_store_purchases', 365) }} as in_store_orders_365d
    from snapshots
    inner join purchase_days as activity
        on
            snapshots.snapshot_date > activity.activity_date
            and {{ dbt.dateadd('day', -365, 'snapshots.snapshot_date') }} <= activity.activity_date
    group by snapshots.snapshot_date, activity.customer_id
),

population as (
    select *
    from purchase_history
    where orders_365d > 0
),

-- service: tickets opened before the snapshot; a complaint is unresolved at the
-- snapshot if it was not resolved before it (a later resolution is the future)
service as (
    select
        snapshots.snapshot_date,
        tickets.customer_id,
        count(*) as tickets_lifetime,
        {{ window_sum(1, 90, date_column='tickets.created_at') }} as tickets_90d,
        {{ window_sum('case when tickets.is_complaint then 1 else 0 end', 90, date_column='tickets.created_at') }}
            as complaints_90d,
        count(
            case
                when
                    tickets.is_complaint
                    and (tickets.resolved_at is null or tickets.resolved_at >= snapshots.snapshot_date)
                    then 1
            end
        ) as unresolved_complaints
    from snapshots
    inner join tickets
        on snapshots.snapshot_date > tickets.created_at
    group by snapshots.snapshot_date, tickets.customer_id
),

-- consent: the event whose span (int_consent_events_sequenced: it holds until the next
-- event of its customer and channel) covers the snapshot, i.e. the latest event recorded
-- before it; one range join instead of ranking every event at every snapshot
consent_ranked as (
    select
        snapshots.snapshot_date,
        consent_spans.customer_id,
        consent_spans.channel,
        consent_spans.is_granted
    from snapshots
    inner join consent_spans
        on
            snapshots.snapshot_date > consent_spans.recorded_at
            and (consent_spans.next_recorded_at is null or snapshots.snapshot_date <= consent_spans.next_recorded_at)
),

consent as (
    select
        snapshot_date,
        customer_id,
        {% for channel in channels -%}
            coalesce(max(case when channel = '{{ channel }}' then is_granted end), false)
                as has_{{ channel }}_consent
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from consent_ranked
    group by snapshot_date, customer_id
),

-- loyalty: a membership's tier is known at a snapshot only if last updated before it
loyalty_at_snapshot as (
    select
        snapshots.snapshot_date,
        loyalty_identifiers.customer_id,
        max(loyalty_tiers.tier_rank) as loyalty_tier_rank
    from snapshots
    inner join loyalty_members
        on snapshots.snapshot_date > coalesce(loyalty_members.updated_at, loyalty_members.enrolled_at)
    inner join loyalty_identifiers
        on loyalty_members.member_id = loyalty_identifiers.source_record_id
    inner join loyalty_tiers
        on loyalty_members.tier = loyalty_tiers.tier
    group by snapshots.snapshot_date, loyalty_identifiers.customer_id
),

-- label: any purchase in [snapshot, snapshot + horizon)
future_purchases as (
    select distinct
        snapshots.snapshot_date,
        activity.customer_id
    from snapshots
    inner join daily_activity as activity
        on
            snapshots.snapshot_date <= activity.activity_date
            and snapshots.horizon_end_date > activity.activity_date
    where snapshots.is_labelled and activity.purchases > 0
),

final as (
    select
        -- ids
        {{ dbt.concat([
            'population.customer_id', "'|'",
            'cast(population.snapshot_date as ' ~ dbt.type_string() ~ ')']) }} as churn_feature_id,
        population.customer_id,

        -- strings
        loyalty_tiers.tier as loyalty_tier,

        -- numerics: recency, frequency, monetary value
        {{ days_between('population.first_purchase_date', 'population.snapshot_date') }} as tenure_days,
        {{ days_between('population.last_purchase_date', 'population.snapshot_date') }}
            as days_since_last_order,
        {{ days_between('engagement.last_web_session_date', 'population.snapshot_date') }}
            as days_since_last_web_session,
        population.orders_30d,
        population.orders_90d,
        population.orders_180d,
        population.orders_365d,
        population.orders_lifetime,
        population.revenue_30d,
        population.revenue_90d,
        population.revenue_180d,
        population.revenue_365d,
        population.revenue_lifetime,
        population.revenue_365d / population.orders_365d as avg_order_value_365d,
        population.orders_prior_90d,
        population.revenue_prior_90d,
        population.orders_90d - population.orders_prior_90d as orders_trend_90d,
        population.revenue_90d - population.revenue_prior_90d as revenue_trend_90d,
        1.0 * population.in_store_orders_365d / population.orders_365d as in_store_share_365d,
        cast(coalesce(loyalty_at_snapshot.loyalty_tier_rank, 0) as {{ dbt.type_bigint() }}) as loyalty_tier_rank,

        -- numerics: service
        coalesce(service.tickets_90d, 0) as tickets_90d,
        coalesce(service.complaints_90d, 0) as complaints_90d,
        coalesce(service.unresolved_complaints, 0) as unresolved_complaints,
        coalesce(service.tickets_lifetime, 0) as tickets_lifetime,

        -- numerics: web and email engagement and their decline
        coalesce(engagement.web_sessions_30d, 0) as web_sessions_30d,
        coalesce(engagement.web_sessions_90d, 0) as web_sessions_90d,
        coalesce(engagement.web_sessions_prior_90d, 0) as web_sessions_prior_90d,
        coalesce(engagement.web_sessions_90d, 0) - coalesce(engagement.web_sessions_prior_90d, 0)
            as web_sessions_trend_90d,
        coalesce(engagement.product_views_30d, 0) as product_views_30d,
        coalesce(engagement.product_views_90d, 0) as product_views_90d,
        coalesce(engagement.email_opens_90d, 0) as email_opens_90d,
        coalesce(engagement.email_clicks_90d, 0) as email_clicks_90d,
        coalesce(engagement.email_opens_prior_90d, 0) as email_opens_prior_90d,
        coalesce(engagement.email_opens_90d, 0) - coalesce(engagement.email_opens_prior_90d, 0)
            as email_opens_trend_90d,

        -- booleans: consent state at the snapshot (no event: no consent)
        {% for channel in channels -%}
            coalesce(consent.has_{{ channel }}_consent, false) as has_{{ channel }}_consent,
        {% endfor -%}
        case
            when snapshots.is_labelled then future_purchases.customer_id is null
        end as churned_next_90d,

        -- dates
        population.snapshot_date
    from population
    inner join snapshots
        on population.snapshot_date = snapshots.snapshot_date
    left join engagement
        on
            population.snapshot_date = engagement.snapshot_date
            and population.customer_id = engagement.customer_id
    left join service
        on
            population.snapshot_date = service.snapshot_date
            and population.customer_id = service.customer_id
    left join consent
        on
            population.snapshot_date = consent.snapshot_date
            and population.customer_id = consent.customer_id
    left join loyalty_at_snapshot
        on
            population.snapshot_date = loyalty_at_snapshot.snapshot_date
            and population.customer_id = loyalty_at_snapshot.customer_id
    left join loyalty_tiers
        on loyalty_at_snapshot.loyalty_tier_rank = loyalty_tiers.tier_rank
    left join future_purchases
        on
            population.snapshot_date = future_purchases.snapshot_date
            and population.customer_id = future_purchases.customer_id
    where {{ without_erased_customers('population.customer_id') }}
)

select * from final
