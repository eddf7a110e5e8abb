-- A cancelled or refunded order is kept in unified_orders but never counts as revenue.
select
    order_key,
    order_status,
    net_revenue
from {{ ref('unified_orders') }}
where order_status in ('cancelled', 'refunded') and (net_revenue != 0 or is_purchase)
