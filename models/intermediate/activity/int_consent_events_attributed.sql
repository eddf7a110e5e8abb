{#
    Consent events with the customer(s) they apply to. The subject is named by any
    of email, phone and shop account; each resolves to customers through
    int_contact_points_mapped. Opt-in regime, so the safe side differs by status:
    a grant applies only when its subject names exactly one customer (a grant on a
    household email is not the whole household's); a revocation applies to every
    customer its subject names. Events that name no known customer are kept with
    a NULL customer_id.
#}
with

consent_events as (
    select * from {{ ref('stg_consent__events') }}
),

contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
),

subject_matches as (
    select
        consent_events.event_id,
        contact_points.customer_id
    from consent_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'email_key'
            and consent_events.email_key = contact_points.contact_point_value
    union
    select
        consent_events.event_id,
        contact_points.customer_id
    from consent_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'phone_e164'
            and consent_events.phone_e164 = contact_points.contact_point_value
    union
    select
        consent_events.event_id,
        contact_points.customer_id
    from consent_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'shop_customer_id'
            and consent_events.customer_id = contact_points.contact_point_value
),

attributed as (
    select
        subject_matches.event_id,
        subject_matches.customer_id,
        count(*) over (partition by subject_matches.event_id) as candidate_customers
    from subject_matches
),

applicable as (
    select attributed.*
    from attributed
    inner join consent_events
        on attributed.event_id = consent_events.event_id
    where consent_events.status = 'revoked' or attributed.candidate_customers = 1
),

final as (
    select
        -- ids
        consent_events.event_id,
        applicable.customer_id,

        -- strings
        consent_events.channel,
        consent_events.status,
        consent_events.lawful_basis,
        consent_events.source_system,

        -- booleans
        consent_events.status = 'granted' as is_granted,

        -- timestamps
        consent_events.recorded_at
    from consent_events
    left join applicable
        on consent_events.event_id = applicable.event_id
)

select * from final
