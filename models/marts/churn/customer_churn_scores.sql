{#
    Churn probability, risk band and the features that push each customer's risk up
    most, for every customer of the latest churn_features snapshot. Scored by the
    scikit-learn model fitted in int_churn_scores_predicted; its holdout quality is
    in churn_model_metrics.
#}
with

scores as (
    select * from {{ ref('int_churn_scores_predicted') }}
),

final as (
    select
        -- ids
        customer_id,

        -- strings
        churn_risk_band,
        driver_1,
        driver_2,
        driver_3,
        top_drivers,

        -- numerics
        cast(churn_probability as double) as churn_probability,

        -- dates
        cast(snapshot_date as date) as snapshot_date
    from scores
    where {{ without_erased_customers('customer_id') }}
)

select * from final
