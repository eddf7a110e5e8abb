{#
    Holdout quality of the churn classifier beside the days-since-last-order
    baseline, measured in the same build on the same holdout snapshot (the latest
    labelled one; the model trained on earlier snapshots only).
#}
with

metrics as (
    select * from {{ ref('int_churn_model_evaluated') }}
),

final as (
    select
        -- ids
        model_metric_id,

        -- strings
        model_name,
        metric,

        -- numerics
        cast(metric_value as double) as metric_value,
        cast(training_rows as {{ dbt.type_bigint() }}) as training_rows,
        cast(holdout_rows as {{ dbt.type_bigint() }}) as holdout_rows,
        cast(training_snapshots as {{ dbt.type_bigint() }}) as training_snapshots,

        -- dates
        cast(holdout_snapshot_date as date) as holdout_snapshot_date
    from metrics
)

select * from final
