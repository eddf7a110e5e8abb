{#
    The keys of the churn_features rows a new churn model version trains on and is
    evaluated on (int_churn_training_sample, where the sampling rule lives): the interface
    of the report's holdout charts (c360.report), which read churn_features restricted to
    these keys instead of the intermediate table. A view in the churn_workbench schema,
    never published (see its YAML).
#}
with

training_sample as (
    select * from {{ ref('int_churn_training_sample') }}
),

final as (
    -- ids
    select churn_feature_id
    from training_sample
)

select * from final
