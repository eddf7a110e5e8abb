{#
    One row per customer: the golden record (survivorship seeds, with the source
    of every surviving value), every identifier, lifecycle, commerce across
    channels, loyalty, service, engagement, consent per channel and the churn
    score. Every customer of customer_identifiers appears exactly once. Activity
    and scores arrive summarised per customer (int_customer_activity_summarised,
    int_customer_churn_and_value_joined), so this model only assembles.
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

-- commerce, loyalty, service, engagement and lifecycle
activity as (
    select * from {{ ref('int_customer_activity_summarised') }}
),

consent as (
    select * from {{ ref('int_customer_consent_latest') }}
),

-- churn score and value segment
churn_and_value as (
    select * from {{ ref('int_customer_churn_and_value_joined') }}
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
        activity.purchase_count,
        activity.online_purchase_count,
        activity.in_store_purchase_count,
        activity.cancelled_or_refunded_count,
        activity.net_revenue,
        activity.online_net_revenue,
        activity.in_store_net_revenue,
        activity.average_order_value,
        activity.favourite_category,
        activity.first_purchase_at,
        activity.last_purchase_at,
        activity.last_order_date,

        -- loyalty
        activity.loyalty_tier,
        activity.loyalty_tier_rank,
        activity.loyalty_points,
        activity.is_loyalty_member,

        -- service
        activity.ticket_count,
        activity.open_ticket_count,
        activity.complaint_count,
        activity.last_complaint_at,
        activity.is_last_complaint_resolved,
        activity.average_satisfaction_score,

        -- engagement
        activity.web_sessions_30d,
        activity.web_sessions_90d,
        activity.product_views_30d,
        activity.product_views_90d,
        activity.stitched_web_sessions,
        activity.email_opens_90d,
        activity.email_clicks_90d,
        activity.email_opens_total,
        activity.email_clicks_total,
        activity.last_web_session_at,
        activity.last_email_open_at,

        -- consent (no event means no consent)
        {% for channel in channels -%}
            coalesce(consent_by_channel.has_{{ channel }}_consent, false) as has_{{ channel }}_consent,
            consent_by_channel.{{ channel }}_consent_updated_at,
            consent_by_channel.{{ channel }}_consent_source,
        {% endfor %}

        -- churn and value
        churn_and_value.churn_probability,
        churn_and_value.churn_risk_band,
        churn_and_value.churn_top_drivers,
        churn_and_value.rfm_segment,
        churn_and_value.historical_clv,

        -- lifecycle
        activity.first_seen_at,
        activity.last_seen_at,
        activity.tenure_days,
        as_of.as_of_date
    from identifiers
    cross join as_of
    left join golden_record
        on identifiers.customer_id = golden_record.customer_id
    left join activity
        on identifiers.customer_id = activity.customer_id
    left join consent_by_channel
        on identifiers.customer_id = consent_by_channel.customer_id
    left join churn_and_value
        on identifiers.customer_id = churn_and_value.customer_id
    where {{ without_erased_customers('identifiers.customer_id') }}
)

select * from final
