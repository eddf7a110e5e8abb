{{ config(materialized='ephemeral') }}
{#
    Online orders and in-store sales in one shape, with what each carries to find
    its customer: the shop account or guest checkout (a person record), or for a
    POS sale the loyalty card and the e-receipt email. Attribution happens in
    int_orders_attributed.

    Ephemeral: int_orders_attributed is its one reader, so storing this reshaping would
    only write every order and sale again, and another copy of loyalty cards and
    receipt emails. Its key tests compute it on the fly.
#}
with

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

pos_transactions as (
    select * from {{ ref('stg_pos__transactions') }}
),

unioned as (
    select
        {{ dbt.concat(["'shop:'", 'order_id']) }} as order_key,
        'online' as channel,
        order_id as source_order_id,
        case
            when is_guest_order then {{ dbt.concat(["'shop_guest:'", 'order_id']) }}
            else {{ dbt.concat(["'shop:'", 'customer_id']) }}
        end as person_record_id,
        cast(null as {{ dbt.type_string() }}) as loyalty_card_number,
        cast(null as {{ dbt.type_string() }}) as receipt_email_key,
        status as order_status,
        currency,
        total_amount as amount,
        ordered_at
    from shop_orders
    union all
    select
        {{ dbt.concat(["'pos:'", 'transaction_id']) }} as order_key,
        'in_store' as channel,
        transaction_id as source_order_id,
        cast(null as {{ dbt.type_string() }}) as person_record_id,
        loyalty_card_number,
        receipt_email_key,
        -- a till has no order status: a negative amount is a return
        case when amount < 0 then 'returned' else 'completed' end as order_status,
        currency,
        amount,
        transacted_at as ordered_at
    from pos_transactions
),

final as (
    select
        -- ids
        order_key,
        source_order_id,
        person_record_id,
        loyalty_card_number,

        -- strings
        channel,
        receipt_email_key,
        order_status,
        currency,

        -- numerics
        amount,

        -- timestamps
        ordered_at
    from unioned
)

select * from final
