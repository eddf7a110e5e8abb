{#
    Every record held about each customer, with how it is tied to them: the
    interface of the subject-access export (c360.privacy.access_export), which reads
    it for one customer and then the staging rows it names from the build warehouse.
    Ids and link metadata only, no personal data. A view in the privacy schema (see
    its YAML): it spans every record of every customer, erased customers included,
    and only the build warehouse's privacy tools read it.
#}
with

linked_records as (
    select * from {{ ref('int_customer_records_linked') }}
),

final as (
    select
        -- ids
        customer_id,
        source_record_id,

        -- strings
        source_system,
        source_table,
        record_kind,
        linked_by,

        -- booleans
        is_shared_link,
        is_erased_customer
    from linked_records
)

select * from final
