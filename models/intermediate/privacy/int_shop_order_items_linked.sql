{#
    The lines of every order of the customer: orders of their shop accounts and their
    guest checkouts. One row per (customer, order line); a line is a shared link
    when its order is.
#}
with

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

account_orders as (
    select * from {{ ref('int_shop_orders_linked') }}
),

guest_orders as (
    select * from {{ ref('int_person_records_linked') }}
    where source_system = 'shop_guest'
),

customer_orders as (
    select
        customer_id,
        source_record_id as order_id,
        is_shared_link,
        is_erased_customer
    from account_orders
    union all
    select
        customer_id,
        source_record_id as order_id,
        is_shared_link,
        is_erased_customer
    from guest_orders
),

final as (
    select
        -- ids
        customer_orders.customer_id,
        order_items.order_item_id as source_record_id,

        -- strings
        'shop' as source_system,
        'shop_order_items' as source_table,
        'activity' as record_kind,
        'order' as linked_by,

        -- booleans
        customer_orders.is_shared_link,
        customer_orders.is_erased_customer
    from order_items
    inner join customer_orders
        on order_items.order_id = customer_orders.order_id
)

select * from final
