{#
    Support tickets with their customer: the requester is a person record
    (source_system support), so identity resolution already placed it. Read from
    the complete identity graph, erased customers included (the marts drop them).
#}
with

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

identifiers as (
    select * from {{ ref('int_person_records_resolved') }}
    where source_system = 'support'
),

final as (
    select
        -- ids
        tickets.ticket_id,
        identifiers.customer_id,
        tickets.order_id,

        -- strings
        tickets.channel,
        tickets.category,
        tickets.status,

        -- numerics
        tickets.satisfaction_score,

        -- booleans
        tickets.category = 'complaint' as is_complaint,

        -- timestamps
        tickets.created_at,
        tickets.resolved_at
    from tickets
    left join identifiers
        on tickets.ticket_id = identifiers.source_record_id
)

select * from final
