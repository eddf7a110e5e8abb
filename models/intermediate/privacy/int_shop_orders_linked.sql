{#
    Shop orders placed from the customer's shop accounts, one row per (customer,
    order). Guest checkouts are person records (int_person_records_linked). An
    account other customers carry too makes the order a shared link.
#}
with

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

shop_accounts as (
    select * from {{ ref('int_customer_link_keys_flagged') }}
    where link_key_type = 'shop_customer_id'
),

final as (
    select
        -- ids
        shop_accounts.customer_id,
        shop_orders.order_id as source_record_id,

        -- strings
        'shop' as source_system,
        'shop_orders' as source_table,
        'activity' as record_kind,
        'shop_account' as linked_by,

        -- booleans
        shop_accounts.customer_count > 1 as is_shared_link,
        shop_accounts.is_erased_customer
    from shop_orders
    inner join shop_accounts
        on shop_orders.customer_id = shop_accounts.link_key_value
)

select * from final
