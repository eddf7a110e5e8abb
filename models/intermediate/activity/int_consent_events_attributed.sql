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

-- the subject's identifiers, each an equi-join (an OR join would be a nested loop)
subject_matches as (
    {% for point_type, column in [('email_key', 'email_key'), ('phone_e164', 'phone_e164'),
        ('shop_customer_id', 'customer_id')] %}
        select
            consent_events.event_id,
            contact_points.customer_id
        from consent_events
        inner join contact_points
            on
                contact_points.contact_point_type = '{{ point_type }}'
                and consent_events.{{ column }} = contact_points.contact_point_value
        {% if not loop.last %}union{% endif %}
    {% endfor %}
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
