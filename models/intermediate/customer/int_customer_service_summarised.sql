{#
    Service per customer: tickets, open tickets, the last complaint and whether it
    was resolved, average satisfaction.
#}
with

tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
    where customer_id is not null
),

last_complaint as (
    select
        customer_id,
        created_at,
        status = 'resolved' as is_resolved,
        row_number() over (partition by customer_id order by created_at desc, ticket_id desc) as complaint_rank
    from tickets
    where is_complaint
),

totals as (
    select
        customer_id,
        count(*) as ticket_count,
        count(case when status = 'open' then 1 end) as open_ticket_count,
        count(case when is_complaint then 1 end) as complaint_count,
        avg(satisfaction_score) as average_satisfaction_score,
        max(created_at) as last_ticket_at
    from tickets
    group by customer_id
),

final as (
    select
        -- ids
        totals.customer_id,

        -- numerics
        totals.ticket_count,
        totals.open_ticket_count,
        totals.complaint_count,
        totals.average_satisfaction_score,

        -- booleans
        last_complaint.is_resolved as is_last_complaint_resolved,

        -- timestamps
        totals.last_ticket_at,
        last_complaint.created_at as last_complaint_at
    from totals
    left join last_complaint
        on
            totals.customer_id = last_complaint.customer_id
            and last_complaint.complaint_rank = 1
)

select * from final
