{#
    Commerce per customer across channels from int_orders_attributed: purchases and net
    revenue online and in store (cancelled and refunded orders count as orders
    but not as revenue), average order value, first and last purchase, and the
    favourite category (most net spend on online order lines).
#}
with

orders as (
    select * from {{ ref('int_orders_attributed') }}
    where customer_id is not null
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

category_spend as (
    select
        orders.customer_id,
        order_items.product_category,
        sum(order_items.line_amount) as spend
    from order_items
    inner join orders
        on
            orders.channel = 'online'
            and order_items.order_id = orders.source_order_id
    where orders.is_purchase and order_items.product_category is not null
    group by orders.customer_id, order_items.product_category
),

favourite_category as (
    select
        customer_id,
        product_category,
        row_number() over (
            partition by customer_id order by spend desc, product_category asc
        ) as category_rank
    from category_spend
),

totals as (
    select
        customer_id,
        count(case when is_purchase then 1 end) as purchase_count,
        count(case when is_purchase and channel = 'online' then 1 end) as online_purchase_count,
        count(case when is_purchase and channel = 'in_store' then 1 end) as in_store_purchase_count,
        count(case when order_status in ('cancelled', 'refunded', 'returned') then 1 end)
            as cancelled_or_refunded_count,
        coalesce(sum(net_revenue), 0) as net_revenue,
        coalesce(sum(case when channel = 'online' then net_revenue end), 0) as online_net_revenue,
        coalesce(sum(case when channel = 'in_store' then net_revenue end), 0) as in_store_net_revenue,
        min(case when is_purchase then ordered_at end) as first_purchase_at,
        max(case when is_purchase then ordered_at end) as last_purchase_at,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from orders
    group by customer_id
),

final as (
    select
        -- ids
        totals.customer_id,

        -- strings
        favourite_category.product_category as favourite_category,

        -- numerics
        totals.purchase_count,
        totals.online_purchase_count,
        totals.in_store_purchase_count,
        totals.cancelled_or_refunded_count,
        totals.net_revenue,
        totals.online_net_revenue,
        totals.in_store_net_revenue,
        case when totals.purchase_count > 0 then totals.net_revenue / totals.purchase_count end
            as average_order_value,

        -- timestamps
        totals.first_purchase_at,
        totals.last_purchase_at,
        totals.first_order_at,
        totals.last_order_at
    from totals
    left join favourite_category
        on
            totals.customer_id = favourite_category.customer_id
            and favourite_category.category_rank = 1
)

select * from final
