{#
    RFM segments and historical lifetime value per customer with a purchase: the
    published face of int_customer_values_segmented, where the rules live.
#}
with

segments as (
    select * from {{ ref('int_customer_values_segmented') }}
),

final as (
    select * from segments
)

select * from final
