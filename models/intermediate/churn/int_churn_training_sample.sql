{#
    The labelled churn_features rows a new churn model version trains on (the model
    and its holdout evaluation, in int_churn_models_trained): at most
    var('churn_max_training_rows') of them, chosen by a hash of the key and
    var('churn_seed'), so the sample is the same on every build and memory stays flat
    as the customer base grows. The keys are ranked alone before the rows are fetched
    (a top-N sort carrying every column costs more: BENCHMARKS.md, sixth pass). The
    columns are churn_features' own. Builds that do not train read only its schema.
#}
{%- set max_rows = var('churn_max_training_rows') | string | trim -%}
{%- if not max_rows.isdigit() or max_rows | int < 1 -%}
    {{ exceptions.raise_compiler_error(
        "var churn_max_training_rows must be a whole number of rows above 0, got '"
        ~ max_rows ~ "' (dbt_project.yml vars or --vars)") }}
{%- endif -%}
{#- the registry (int_churn_models_trained) reads these two: checked here, at compile time -#}
{%- set max_age = var('churn_max_model_age_days') | string | trim -%}
{%- if not max_age.isdigit() -%}
    {{ exceptions.raise_compiler_error(
        "var churn_max_model_age_days must be a whole number of days, 0 or more, got '"
        ~ max_age ~ "' (dbt_project.yml vars or --vars)") }}
{%- endif -%}
{%- for name, value in [
    ('var churn_train_new_model', var('churn_train_new_model')),
    ('env C360_CHURN_TRAIN_NEW_MODEL', env_var('C360_CHURN_TRAIN_NEW_MODEL', 'false')),
] -%}
    {%- if value | string | trim | lower not in ['true', 'false', '1', '0', 'yes', 'no', ''] -%}
        {{ exceptions.raise_compiler_error(
            name ~ " must be true or false, got '" ~ value ~ "'") }}
    {%- endif -%}
{%- endfor %}
with

labelled as (
    select * from {{ ref('churn_features') }}
    where churned_next_90d is not null
),

sampled_keys as (
    select
        churn_feature_id,
        {{ dbt.hash(dbt.concat(['churn_feature_id', "'" ~ var('churn_seed') ~ "'"])) }} as sample_key
    from labelled
    order by sample_key
    limit {{ max_rows }}
),

final as (
    select labelled.*
    from labelled
    inner join sampled_keys
        on labelled.churn_feature_id = sampled_keys.churn_feature_id
)

select * from final
