{#
    Churn probability, risk band and the features that push each customer's risk up
    most, for every customer of the latest churn_features snapshot, with the churn
    model version that scored them. Scored in int_churn_scores_predicted by the stored
    version in use (a build retrains only on schedule: docs/churn.md), so a customer's
    score changes only when their own features or the version change; that version's
    holdout quality is in churn_model_metrics.
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
        cast(churn_model_version as {{ dbt.type_bigint() }}) as churn_model_version,

        -- dates
        cast(snapshot_date as date) as snapshot_date
    from scores
    where {{ without_erased_customers('customer_id') }}
)

select * from final
