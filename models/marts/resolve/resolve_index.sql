{#
    The person records near-real-time resolve (c360.identity.resolve) compares an
    incoming record with: the columns the Splink model and the clustering guards read,
    and each record's current customer. Customers with an erasure request are left
    out, so resolve never finds them. Publishing adds the blocking keys of the model
    in use, the term frequencies and the indexes (c360.identity.resolve.prepare).
#}
with

resolved as (
    select * from {{ ref('int_person_records_resolved') }}
),

final as (
    select
        -- ids
        person_record_id,
        customer_id,
        source_system,
        source_record_id,

        {{ person_match_columns() }}
    from resolved
    where {{ without_erased_customers('customer_id') }}
)

select * from final
