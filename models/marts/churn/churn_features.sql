{#
    Point-in-time churn features, one row per customer and monthly snapshot: the
    published face of int_churn_features, where the rules live.
#}
with

features as (
    select * from {{ ref('int_churn_features') }}
),

final as (
    select * from features
)

select * from final
