{#
    Every change of a person record's customer id, build after build, kept for good
    (int_customer_id_lineage is never rebuilt): created, merged_into, split_from,
    removed, retired, with the build and the evidence (record keys and request ids, no
    personal data). Replaying a build's rows on the ids before it gives the ids after it.
#}
with

events as (
    select * from {{ ref('int_customer_id_lineage') }}
    where row_kind = 'event'
),

final as (
    select
        -- ids
        {{ dbt.concat(['build_id', "'|'", 'person_record_id']) }} as customer_id_change_id,
        person_record_id,
        old_customer_id,
        new_customer_id,
        build_id,

        -- strings
        change as change_type,
        evidence_kind,
        evidence,

        -- numerics
        lineage_sequence as build_sequence,
        match_probability,

        -- timestamps
        built_at as changed_at
    from events
)

select * from final
