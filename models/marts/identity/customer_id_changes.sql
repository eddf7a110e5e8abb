{#
    One row per customer id merged into another, per build: old id -> new id, for syncs
    to destinations with a merge call (merge old into new). From the merged_into events
    of int_customer_id_lineage (the records whose old id was retired into the id they
    have now), one row per build, old id and new id, with the records moved.
    is_successor_customer_id marks the id the old one was retired into (the registry's
    successor, where most of its records went; what customer_id_aliases follows): the
    merge to call. An old id whose records went to several customers has one row each;
    the others only received some of its records.
#}
with

lineage as (
    select * from {{ ref('int_customer_id_lineage') }}
),

merged_pairs as (
    select
        build_id,
        old_customer_id,
        new_customer_id,
        min(lineage_sequence) as build_sequence,
        min(built_at) as changed_at,
        count(*) as records_moved
    from lineage
    where row_kind = 'event' and change = 'merged_into'
    group by build_id, old_customer_id, new_customer_id
),

retirements as (
    select
        retired_build_id as build_id,
        customer_id,
        successor_customer_id
    from lineage
    where row_kind = 'registry' and retired_build_id is not null
),

final as (
    select
        -- ids
        {{ dbt.concat([
            'merged_pairs.build_id', "'|'", 'merged_pairs.old_customer_id', "'|'", 'merged_pairs.new_customer_id'
        ]) }} as customer_id_change_id,
        merged_pairs.old_customer_id,
        merged_pairs.new_customer_id,
        merged_pairs.build_id,

        -- numerics
        merged_pairs.build_sequence,
        merged_pairs.records_moved,

        -- booleans
        coalesce(retirements.successor_customer_id = merged_pairs.new_customer_id, false)
            as is_successor_customer_id,

        -- timestamps
        merged_pairs.changed_at
    from merged_pairs
    left join retirements
        on
            merged_pairs.build_id = retirements.build_id
            and merged_pairs.old_customer_id = retirements.customer_id
)

select * from final
