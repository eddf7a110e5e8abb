{#
    The stable customer id of every person record of this build: each record's latest
    event in int_customer_id_lineage, unless the record is gone. The one mapping every
    model that needs a record's customer reads (through int_person_records_resolved).
#}
with

events as (
    select * from {{ ref('int_customer_id_lineage') }}
    where row_kind = 'event'
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_record_id order by lineage_sequence desc
        ) as recency_rank
    from events
),

final as (
    select
        -- ids
        person_record_id,
        new_customer_id as customer_id,
        build_id as customer_id_build_id,

        -- timestamps
        built_at as customer_id_assigned_at
    from ranked
    where recency_rank = 1 and change not in ('removed', 'retired')
)

select * from final
