with

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

clustered as (
    select * from {{ ref('int_person_records_clustered') }}
),

final as (
    select
        -- ids
        clustered.customer_id,
        person_records.source_system,
        person_records.source_record_id,
        person_records.person_record_id,

        -- numerics
        clustered.cluster_confidence
    from person_records
    inner join clustered
        on person_records.person_record_id = clustered.person_record_id
    where {{ without_erased_customers('clustered.customer_id') }}
)

select * from final
