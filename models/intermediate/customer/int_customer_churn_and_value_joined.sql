{#
    The two forward-looking scores of a customer side by side, one row per customer
    of int_customer_identifiers_collected: the churn score of the as-of snapshot
    (int_churn_scores_predicted) and the RFM segment and historical lifetime value
    (int_customer_values_segmented; 0 without a purchase). Gathered here so
    that customer_360 reads one scores model, not two.
#}
with

identifiers as (
    select * from {{ ref('int_customer_identifiers_collected') }}
),

churn_scores as (
    select * from {{ ref('int_churn_scores_predicted') }}
),

value_segments as (
    select * from {{ ref('int_customer_values_segmented') }}
),

final as (
    select
        -- ids
        identifiers.customer_id,

        -- churn
        churn_scores.churn_probability,
        churn_scores.churn_risk_band,
        churn_scores.top_drivers as churn_top_drivers,

        -- value
        value_segments.rfm_segment,
        coalesce(value_segments.historical_clv, 0) as historical_clv
    from identifiers
    left join churn_scores
        on identifiers.customer_id = churn_scores.customer_id
    left join value_segments
        on identifiers.customer_id = value_segments.customer_id
)

select * from final
