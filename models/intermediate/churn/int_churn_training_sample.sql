{#
    The labelled churn_features rows both churn models train on (the scoring and the
    holdout evaluation): at most var('churn_max_training_rows') of them, chosen by a
    hash of the key and var('churn_seed'), so the sample is the same on every build
    and memory stays flat as the customer base grows. One table instead of the same
    query in each model, and the keys are ranked alone before the rows are fetched (a
    top-N sort carrying every column costs more): at 1M persons the two models'
    samples took 10.3-11.8 CPU-s, this table and its two reads 6.7-6.9, for the same
    rows (BENCHMARKS.md, sixth pass). The columns are churn_features' own.
#}
{%- set max_rows = var('churn_max_training_rows') | string | trim -%}
{%- if not max_rows.isdigit() or max_rows | int < 1 -%}
    {{ exceptions.raise_compiler_error(
        "var churn_max_training_rows must be a whole number of rows above 0, got '"
        ~ max_rows ~ "' (dbt_project.yml vars or --vars)") }}
{%- endif %}
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
