{#
    Consent per customer and channel from the latest event that counts (doc block
    consent_rule; int_consent_events_attributed decides which customers an event
    applies to and whether it counts). One row per customer and channel that has
    any such event; no event means no consent, which customer_360 applies.
#}
with

consent_events as (
    select * from {{ ref('int_consent_events_attributed') }}
    where customer_id is not null and is_counted
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
