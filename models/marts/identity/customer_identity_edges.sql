{#
    Why records share a customer: every scored or deterministic pair from the
    match threshold up whose two records ended in the same customer, with the
    evidence. Pairs a guard refused, and pairs clustering skipped as two people
    (is_contradictory), are not here (they are not holding anything).
#}
with

scored_pairs as (
    select * from {{ ref('int_person_pairs_scored') }}
),

deterministic_edges as (
    select * from {{ ref('int_identity_edges_deterministic') }}
),

resolved as (
    select * from {{ ref('int_person_records_resolved') }}
),

candidate_edges as (
    select
        person_record_id_l,
        person_record_id_r,
        match_probability,
        match_weight,
        comparison_levels as evidence,
        'splink' as edge_source
    from scored_pairs
    where
        match_probability >= {{ var('identity_match_threshold') }}
        -- clustering skips a pair whose first names and birth dates both differ
        and not is_contradictory
    union all
    select
        person_record_id_l,
        person_record_id_r,
        match_probability,
        cast(null as double) as match_weight,
        evidence,
        'deterministic' as edge_source
    from deterministic_edges
),

final as (
    select
        -- ids
        {{ dbt.concat(['candidate_edges.person_record_id_l', "'|'", 'candidate_edges.person_record_id_r']) }}
            as identity_edge_id,
        left_record.customer_id,
        candidate_edges.person_record_id_l,
        candidate_edges.person_record_id_r,

        -- strings
        candidate_edges.edge_source,
        candidate_edges.evidence,

        -- numerics
        candidate_edges.match_probability,
        candidate_edges.match_weight
    from candidate_edges
    inner join resolved as left_record
        on candidate_edges.person_record_id_l = left_record.person_record_id
    inner join resolved as right_record
        on candidate_edges.person_record_id_r = right_record.person_record_id
    where
        left_record.customer_id = right_record.customer_id
        and {{ without_erased_customers('left_record.customer_id') }}
)

select * from final
