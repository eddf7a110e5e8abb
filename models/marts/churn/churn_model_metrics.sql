{#
    Holdout quality of the churn model version that scored customer_churn_scores, beside
    the days-since-last-order baseline: measured when that version was trained, on the
    latest labelled snapshot of its training data (trained on the earlier ones), and
    stored with it in the registry (int_churn_models_trained). One row per model and
    metric; every version's figures stay in the registry.
#}
{%- set metrics = [
    ('churn_classifier', 'roc_auc', 'classifier_roc_auc'),
    ('churn_classifier', 'precision_at_top_decile', 'classifier_precision_at_top_decile'),
    ('churn_classifier', 'holdout_positive_rate', 'holdout_positive_rate'),
    ('baseline_days_since_last_order', 'roc_auc', 'baseline_roc_auc'),
    ('baseline_days_since_last_order', 'precision_at_top_decile', 'baseline_precision_at_top_decile'),
    ('baseline_days_since_last_order', 'holdout_positive_rate', 'holdout_positive_rate'),
] -%}
with

models as (
    select * from {{ ref('int_churn_models_trained') }}
),

scores as (
    select * from {{ ref('int_churn_scores_predicted') }}
),

versions_in_use as (
    select distinct churn_model_version from scores
),

evaluated_in_use as (
    select models.*
    from models
    inner join versions_in_use
        on models.churn_model_version = versions_in_use.churn_model_version
    where models.holdout_snapshot_date is not null
),

metrics as (
    {% for model_name, metric, column in metrics %}
        select
            churn_model_version,
            '{{ model_name }}' as model_name,
            '{{ metric }}' as metric,
            {{ column }} as metric_value,
            holdout_training_rows as training_rows,
            holdout_rows,
            holdout_training_snapshots as training_snapshots,
            training_reason,
            holdout_snapshot_date,
            training_as_of_date,
            trained_at
        from evaluated_in_use
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        -- ids
        {{ dbt.concat(['model_name', "'|'", 'metric']) }} as model_metric_id,

        -- strings
        model_name,
        metric,
        training_reason,

        -- numerics
        cast(metric_value as double) as metric_value,
        cast(training_rows as {{ dbt.type_bigint() }}) as training_rows,
        cast(holdout_rows as {{ dbt.type_bigint() }}) as holdout_rows,
        cast(training_snapshots as {{ dbt.type_bigint() }}) as training_snapshots,
        cast(churn_model_version as {{ dbt.type_bigint() }}) as churn_model_version,

        -- dates
        cast(holdout_snapshot_date as date) as holdout_snapshot_date,
        cast(training_as_of_date as date) as training_as_of_date,

        -- timestamps
        cast(trained_at as {{ dbt.type_timestamp() }}) as trained_at
    from metrics
)

select * from final
