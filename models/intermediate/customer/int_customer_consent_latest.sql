{#
    Consent per customer and channel from the latest event (source contract:
    the latest event per subject and channel wins; see
    int_consent_events_attributed for which customers an event applies to).
    One row per customer and channel that has any event; no event means no
    consent, which customer_360 applies.
#}
with

consent_events as (
    select * from {{ ref('int_consent_events_attributed') }}
    where customer_id is not null and channel is not null and recorded_at is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, channel
            -- on a tie a revocation wins: the safe side of an opt-in regime
            order by recorded_at desc, is_granted asc, event_id desc
        ) as event_rank
    from consent_events
),

final as (
    select
        -- ids
        customer_id,
        event_id,

        -- strings
        channel,
        status,
        source_system,

        -- booleans
        is_granted,

        -- timestamps
        recorded_at
    from ranked
    where event_rank = 1
)

select * from final
