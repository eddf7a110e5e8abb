-- A customer's revenue in customer_360 is the sum of that customer's net orders across
-- channels in unified_orders (cancelled and refunded orders count 0).
with

orders as (
    select
        customer_id,
        coalesce(sum(net_revenue), 0) as order_revenue
    from {{ ref('unified_orders') }}
    where customer_id is not null
    group by customer_id
)

select
    customers.customer_id,
    customers.net_revenue,
    coalesce(orders.order_revenue, 0) as order_revenue
from {{ ref('customer_360') }} as customers
left join orders
    on customers.customer_id = orders.customer_id
where abs(customers.net_revenue - coalesce(orders.order_revenue, 0)) > 0.005
