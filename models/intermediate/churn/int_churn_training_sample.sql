{#
    The labelled churn_features rows a new churn model version trains on (the model
    and its holdout evaluation, in int_churn_models_trained): at most
    var('churn_max_training_rows') of them, chosen by a hash of the key and
    var('churn_seed'), so the sample is the same on every build and memory stays flat
    as the customer base grows. The keys are ranked alone before the rows are fetched
    (a top-N sort carrying every column costs more). The columns are churn_features'
    own. Builds that do not train read only its schema. The vars are checked by
    checked_var here and, with the registry's, before every build (validate_vars).
#}
with

labelled as (
    select * from {{ ref('int_churn_features') }}
    where churned_next_90d is not null
),

sampled_keys as (
    select
        churn_feature_id,
        {{ dbt.hash(dbt.concat(['churn_feature_id', "'" ~ checked_var('churn_seed') ~ "'"])) }} as sample_key
    from labelled
    order by sample_key
    limit {{ checked_var('churn_max_training_rows') }}
),

final as (
    select labelled.*
    from labelled
    inner join sampled_keys
        on labelled.churn_feature_id = sampled_keys.churn_feature_id
)

select * from final
