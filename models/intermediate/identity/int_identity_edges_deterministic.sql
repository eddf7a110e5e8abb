{#
    Links certain by construction, with probability 1 and no Splink: a support
    ticket about an order placed from a shop account was raised by that account's
    holder. They still pass the clustering guards (a spouse raising a ticket under
    her own name and birthday stays her own customer).
#}
with

support_tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

ticket_accounts as (
    select
        'support:' || support_tickets.ticket_id as person_record_id_l,
        'shop:' || shop_orders.customer_id as person_record_id_r,
        'support ticket about an order of the shop account' as evidence
    from support_tickets
    inner join shop_orders
        on support_tickets.order_id = shop_orders.order_id
    where shop_orders.customer_id is not null
),

final as (
    select
        -- ids
        person_record_id_l,
        person_record_id_r,

        -- strings
        evidence,

        -- numerics
        cast(1.0 as double) as match_probability
    from ticket_accounts
)

select * from final
