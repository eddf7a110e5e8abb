{#
    The evidence clustering works from: the pairs Splink scored (int_person_pairs_scored,
    with the guards' contradiction flag) and the deterministic links (probability 1, never
    contradictory). The interface of the Python identity tools that re-cluster the build's
    pairs (c360.identity evaluate, decisions). A view in the identity_workbench schema, never
    published (see its YAML).
#}
with

scored_pairs as (
    select * from {{ ref('int_person_pairs_scored') }}
),

deterministic_edges as (
    select * from {{ ref('int_identity_edges_deterministic') }}
),

unioned as (
    select
        person_record_id_l,
        person_record_id_r,
        match_probability,
        is_contradictory,
        'model' as match_source
    from scored_pairs

    union all

    select
        person_record_id_l,
        person_record_id_r,
        match_probability,
        false as is_contradictory,
        'deterministic' as match_source
    from deterministic_edges
),

final as (
    select
        -- ids
        person_record_id_l,
        person_record_id_r,

        -- strings
        match_source,

        -- numerics
        match_probability,

        -- booleans
        is_contradictory
    from unioned
)

select * from final
