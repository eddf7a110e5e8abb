{#
    Per-customer facts that audience predicates need beyond customer_360 and
    churn_features, in days before the as-of date: since the last and first
    purchase, since the last complaint, and cart abandonment (an add to cart
    with no purchase within 7 days, counted once those 7 days are over).
#}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

customers as (
    select * from {{ ref('int_customer_identifiers_collected') }}
),

commerce as (
    select * from {{ ref('int_customer_commerce_summarised') }}
),

service as (
    select * from {{ ref('int_customer_service_summarised') }}
),

sessions as (
    select * from {{ ref('int_web_sessions_stitched') }}
    where customer_id is not null and add_to_carts > 0
),

orders as (
    select * from {{ ref('int_orders_attributed') }}
    where customer_id is not null and is_purchase
),

carts as (
    select
        sessions.customer_id,
        max(sessions.started_at) as last_cart_at
    from sessions
    cross join as_of
    -- the 7 days after the cart must be over by the as-of date
    where sessions.started_at < {{ dbt.dateadd('day', -7, 'as_of.as_of_date') }}
    group by sessions.customer_id
),

abandoned as (
    select
        carts.customer_id,
        carts.last_cart_at,
        count(orders.order_key) = 0 as is_abandoned
    from carts
    left join orders
        on
            carts.customer_id = orders.customer_id
            and carts.last_cart_at <= orders.ordered_at
            and {{ dbt.dateadd('day', 7, 'carts.last_cart_at') }} > orders.ordered_at
    group by carts.customer_id, carts.last_cart_at
),

final as (
    select
        -- ids
        customers.customer_id,

        -- numerics
        {{ days_between('commerce.last_purchase_at', 'as_of.as_of_date') }} as days_since_last_purchase,
        {{ days_between('commerce.first_purchase_at', 'as_of.as_of_date') }} as days_since_first_purchase,
        {{ days_between('service.last_complaint_at', 'as_of.as_of_date') }} as days_since_last_complaint,
        {{ days_between('abandoned.last_cart_at', 'as_of.as_of_date') }} as days_since_last_cart,

        -- booleans
        coalesce(abandoned.is_abandoned, false) as has_abandoned_cart
    from customers
    cross join as_of
    left join commerce
        on customers.customer_id = commerce.customer_id
    left join service
        on customers.customer_id = service.customer_id
    left join abandoned
        on customers.customer_id = abandoned.customer_id
)

select * from final
