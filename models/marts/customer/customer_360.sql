{#
    One row per customer: the golden record (survivorship seeds, with the source
    of every surviving value), every identifier, lifecycle, commerce across
    channels, loyalty, service, engagement, consent per channel and the churn
    score. Every customer of customer_identifiers appears exactly once.
#}
{%- set channels = ['email', 'sms', 'phone', 'ads'] -%}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers_collected') }}
),

survived as (
    select * from {{ ref('int_customer_attributes_survived') }}
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

consent as (
    select * from {{ ref('int_customer_consent_latest') }}
),

churn_scores as (
    select * from {{ ref('int_churn_scores_predicted') }}
),

value_segments as (
    select * from {{ ref('int_customer_values_segmented') }}
),

-- the engagement windows of the as-of snapshot, the same ones the churn features use
engagement_windows as (
    select engagement_snapshots.*
    from engagement_snapshots
    inner join as_of
        on engagement_snapshots.snapshot_date = as_of.as_of_date
),

golden_record as (
    select
        customer_id,
        {{ survived_attribute('first_name') }},
        {{ survived_attribute('last_name') }},
        {{ survived_attribute('email') }},
        {{ survived_attribute('phone', 'phone_e164') }},
        {{ survived_attribute('birth_date', data_type='date') }},
        {{ survived_attribute('street_address') }},
        {{ survived_attribute('city') }},
        {{ survived_attribute('postal_code') }},
        {{ survived_attribute('country') }}
    from survived
    group by customer_id
),

consent_by_channel as (
    select
        customer_id,
        {% for channel in channels -%}
            coalesce(max(case when channel = '{{ channel }}' then is_granted end), false)
                as has_{{ channel }}_consent,
            max(case when channel = '{{ channel }}' then recorded_at end) as {{ channel }}_consent_updated_at,
            max(case when channel = '{{ channel }}' then source_system end) as {{ channel }}_consent_source
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from consent
    group by customer_id
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

        -- golden record (value, source system, source record)
        golden_record.first_name,
        golden_record.first_name_source_system,
        golden_record.first_name_source_record_id,
        golden_record.last_name,
        golden_record.last_name_source_system,
        golden_record.last_name_source_record_id,
        golden_record.email,
        golden_record.email_source_system,
        golden_record.email_source_record_id,
        golden_record.phone_e164,
        golden_record.phone_e164_source_system,
        golden_record.phone_e164_source_record_id,
        golden_record.birth_date,
        golden_record.birth_date_source_system,
        golden_record.birth_date_source_record_id,
        golden_record.street_address,
        golden_record.street_address_source_system,
        golden_record.street_address_source_record_id,
        golden_record.city,
        golden_record.city_source_system,
        golden_record.city_source_record_id,
        golden_record.postal_code,
        golden_record.postal_code_source_system,
        golden_record.postal_code_source_record_id,
        golden_record.country,
        golden_record.country_source_system,
        golden_record.country_source_record_id,

        -- identifiers (sorted lists)
        identifiers.emails,
        identifiers.phones,
        identifiers.crm_record_ids,
        identifiers.shop_record_ids,
        identifiers.shop_guest_record_ids,
        identifiers.loyalty_record_ids,
        identifiers.support_record_ids,
        identifiers.source_systems,
        identifiers.person_record_count,

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

        -- consent (no event means no consent)
        {% for channel in channels -%}
            coalesce(consent_by_channel.has_{{ channel }}_consent, false) as has_{{ channel }}_consent,
            consent_by_channel.{{ channel }}_consent_updated_at,
            consent_by_channel.{{ channel }}_consent_source,
        {% endfor %}

        -- churn and value
        churn_scores.churn_probability,
        churn_scores.churn_risk_band,
        churn_scores.top_drivers as churn_top_drivers,
        value_segments.rfm_segment,
        coalesce(value_segments.historical_clv, 0) as historical_clv,

        -- lifecycle
        lifecycle.first_seen_at,
        lifecycle.last_seen_at,
        {{ days_between('lifecycle.first_seen_at', 'as_of.as_of_date') }} as tenure_days,
        as_of.as_of_date
    from identifiers
    cross join as_of
    left join golden_record
        on identifiers.customer_id = golden_record.customer_id
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
    left join consent_by_channel
        on identifiers.customer_id = consent_by_channel.customer_id
    left join churn_scores
        on identifiers.customer_id = churn_scores.customer_id
    left join value_segments
        on identifiers.customer_id = value_segments.customer_id
    where {{ without_erased_customers('identifiers.customer_id') }}
)

select * from final
