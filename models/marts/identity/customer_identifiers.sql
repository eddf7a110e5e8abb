{#
    The customer of every person record, without the customers who asked to be
    erased: the published key map reverse-ETL tools sync on.
#}
with

resolved as (
    select * from {{ ref('int_person_records_resolved') }}
),

final as (
    select
        -- ids
        customer_id,
        source_system,
        source_record_id,
        person_record_id,

        -- numerics
        cluster_confidence
    from resolved
    where {{ without_erased_customers('customer_id') }}
)

select * from final
