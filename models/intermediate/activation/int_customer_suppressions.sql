{{ config(materialized='table') }}
{#
    Customers who must not be contacted on a channel ('all' = every channel):
    the do-not-contact seed (contact_suppressions, by customer id, email or phone,
    resolved to every customer the identifier names) and marketing-email
    unsubscribes later than the customer's latest email consent grant (an
    unsubscribe link click is a revocation even if the consent system missed it).
    A table: phone normalisation uses the project's UDF, which only dbt's
    connection has, and readers of the audiences must not need it.
#}
with

suppressions as (
    select * from {{ ref('contact_suppressions') }}
),

contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null and event_type = 'unsubscribe'
),

consent as (
    select * from {{ ref('int_customer_consent_latest') }}
    where channel = 'email'
),

seed_keys as (
    select
        lower(identifier_type) as identifier_type,
        lower(channel) as channel,
        reason,
        identifier_value,
        {{ email_match_key('lower(trim(identifier_value))') }} as email_key,
        {{ normalize_phone('identifier_value') }} as phone_e164
    from suppressions
),

seeded as (
    select
        identifier_value as customer_id,
        channel,
        reason
    from seed_keys
    where identifier_type = 'customer_id'
    {% for identifier_type, point_type in [('email', 'email_key'), ('phone', 'phone_e164')] %}
        union all
        select
            contact_points.customer_id,
            seed_keys.channel,
            seed_keys.reason
        from seed_keys
        inner join contact_points
            on
                seed_keys.{{ point_type }} = contact_points.contact_point_value
                and contact_points.contact_point_type = '{{ point_type }}'
        where seed_keys.identifier_type = '{{ identifier_type }}'
    {% endfor %}
),

unsubscribed as (
    select
        email_events.customer_id,
        'email' as channel,
        'unsubscribed from a marketing email' as reason
    from email_events
    left join consent
        on email_events.customer_id = consent.customer_id
    where consent.recorded_at is null or email_events.occurred_at > consent.recorded_at
),

final as (
    select distinct
        -- ids
        customer_id,

        -- strings
        channel,
        reason
    from (
        select * from seeded
        union all
        select * from unsubscribed
    ) as suppressed
)

select * from final
