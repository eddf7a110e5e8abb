{#
    Every person record with the customer identity resolution gave it: the one join
    of the records with their stable customer ids (int_person_records_customer_ids,
    carried across builds) and their clustering, read by everything that needs a record's
    customer (identifiers, contact points, golden record, loyalty, privacy). The
    complete graph, customers with an erasure request included: an erasure resolves
    through it, and the marts and customer summaries drop those customers
    themselves (macro without_erased_customers).
#}
with

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

clustered as (
    select * from {{ ref('int_person_records_clustered') }}
),

customer_ids as (
    select * from {{ ref('int_person_records_customer_ids') }}
),

final as (
    select
        customer_ids.customer_id,
        clustered.cluster_confidence,
        person_records.*
    from person_records
    inner join clustered
        on person_records.person_record_id = clustered.person_record_id
    inner join customer_ids
        on person_records.person_record_id = customer_ids.person_record_id
)

select * from final
