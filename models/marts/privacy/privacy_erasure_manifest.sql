{#
    What to delete upstream for every erasure request: each record held about each
    customer the request resolved to (int_erased_customers), in every source
    (person records through the identity graph, retired CRM contacts, orders and
    order lines, POS sales, web events of their accounts and devices, email events,
    consent events), with the request it came from. The records are
    int_customer_records_linked's rows of the erased customers: the filter on
    is_erased_customer picks them out before the activity tables are joined (see
    int_customer_link_keys_flagged), rather than every customer's records being
    built and then thrown away. The privacy requests themselves are not listed:
    they are the record that the request was honoured. needs_review marks rows a
    person should confirm before deleting: the request's identifier named several
    customers, or the record is tied to the customer only through a shared
    identifier.
#}
with

erased_customers as (
    select * from {{ ref('int_erased_customers') }}
),

linked_records as (
    select * from {{ ref('int_customer_records_linked') }}
    where
        is_erased_customer
        and source_table != 'privacy_requests'
),

final as (
    select
        -- ids
        {{ dbt.concat([
            'erased_customers.request_id', "'|'", 'erased_customers.customer_id', "'|'",
            'linked_records.source_table', "'|'", 'linked_records.source_record_id']) }} as erasure_manifest_id,
        erased_customers.request_id,
        erased_customers.customer_id,
        linked_records.source_record_id,

        -- strings
        linked_records.source_system,
        linked_records.source_table,
        linked_records.record_kind,
        linked_records.linked_by,
        erased_customers.matched_by,
        erased_customers.request_status,

        -- booleans
        erased_customers.is_ambiguous_request,
        linked_records.is_shared_link,
        erased_customers.is_ambiguous_request or linked_records.is_shared_link as needs_review,

        -- timestamps
        erased_customers.request_received_at
    from erased_customers
    inner join linked_records
        on erased_customers.customer_id = linked_records.customer_id
)

select * from final
