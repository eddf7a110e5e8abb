{#
    Every online order and in-store sale with its customer where it can be known,
    in the reporting currency: the published face of int_orders_attributed, where the
    rules live (attribution, revenue, the anonymised orders of erased customers).
#}
with

orders as (
    select * from {{ ref('int_orders_attributed') }}
),

final as (
    select * from orders
)

select * from final
