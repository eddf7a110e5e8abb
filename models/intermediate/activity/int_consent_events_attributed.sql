{#
    Consent events with the customer(s) they apply to. The subject is named by any
    of email, phone and shop account; each resolves to customers through
    int_contact_points_mapped. Opt-in regime, so the safe side differs by status:
    a grant applies only when its subject names exactly one customer (a grant on a
    household email is not the whole household's); a revocation applies to every
    customer its subject names. Events that name no known customer are kept with
    a NULL customer_id.
    Whether an event counts towards consent is decided here, once (doc block
    consent_rule): a grant recorded at or after the as-of date does not count yet,
    a revocation always does; both are flagged as dq_recorded_at_after_as_of.
#}
with

consent_events as (
    select * from {{ ref('stg_consent__events') }}
),

contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

-- the as-of date as the first instant it does not cover: the churn snapshots cut there too
dated as (
    select
        consent_events.*,
        coalesce(
            consent_events.recorded_at >= cast(as_of.as_of_date as {{ dbt.type_timestamp() }}), false
        ) as is_after_as_of
    from consent_events
    cross join as_of
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
        dated.event_id,
        applicable.customer_id,

        -- strings
        dated.channel,
        dated.status,
        dated.lawful_basis,
        dated.source_system,

        -- booleans
        dated.status = 'granted' as is_granted,
        -- a grant dated after the as-of clock (a typo, a test row, a clock ahead) must not
        -- let anyone in; a revocation, or a status that could not be read (which gives no
        -- consent), counts whatever its date: the safe side
        dated.recorded_at is not null
        and dated.channel is not null
        and (dated.status is distinct from 'granted' or not dated.is_after_as_of) as is_counted,
        dated.is_after_as_of as dq_recorded_at_after_as_of,

        -- timestamps
        dated.recorded_at
    from dated
    left join applicable
        on dated.event_id = applicable.event_id
)

select * from final
