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
        value,
        training_rows,
        holdout_rows,
        training_snapshots,

        -- dates
        holdout_snapshot_date
    from metrics
)

select * from final
