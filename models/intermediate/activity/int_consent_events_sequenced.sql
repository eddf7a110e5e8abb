{#
    The consent events that count (doc block consent_rule), per customer and channel
    in the one order the rule defines: by time, a grant before a revocation recorded
    at the same time (so the revocation is the later, and wins), then by event id.
    Each event holds until the next one: the current consent is the event with no
    next (int_customer_consent_latest), the consent at a past date the event whose
    span covers it (int_churn_features). The order is written here only.
#}
with

events as (
    select * from {{ ref('int_consent_events_attributed') }}
    where customer_id is not null and is_counted
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
        recorded_at,
        lead(recorded_at) over (
            partition by customer_id, channel
            order by recorded_at asc, is_granted desc nulls first, event_id asc nulls first
        ) as next_recorded_at
    from events
)

select * from final
