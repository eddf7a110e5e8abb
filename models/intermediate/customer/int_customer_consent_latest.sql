{#
    Consent per customer and channel now: the last counted event in the order of
    int_consent_events_sequenced (doc block consent_rule), the one no later event
    ends. One row per customer and channel that has any such event; no event means
    no consent, which customer_360 applies.
#}
with

sequenced as (
    select * from {{ ref('int_consent_events_sequenced') }}
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
    from sequenced
    where next_recorded_at is null
)

select * from final
