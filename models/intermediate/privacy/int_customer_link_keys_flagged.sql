{#
    Every key through which a record names a customer: the customer's person
    records in the identity graph, and the identifiers their records carry (email
    match key, E.164 phone, loyalty card, shop account id). customer_count is how many
    customers carry the key, over every customer, so sharing is judged the same
    whoever reads. is_erased_customer says whether the customer has an erasure
    request: the link models carry it to int_customer_records_linked, where a reader
    that wants the erased customers only (privacy_erasure_manifest) filters on it. A
    filter on this column reaches here through the views and turns the left join
    below into an inner join on the few erased customers, so they are picked out
    before the activity tables are joined, not after every customer's records are
    built.
#}
with

customer_ids as (
    select * from {{ ref('int_person_records_customer_ids') }}
),

contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
),

erased_customers as (
    select distinct customer_id from {{ ref('int_erased_customers') }}
),

link_keys as (
    select
        customer_id,
        'person_record' as link_key_type,
        person_record_id as link_key_value,
        -- a person record belongs to one customer
        1 as customer_count
    from customer_ids
    union all
    select
        customer_id,
        contact_point_type as link_key_type,
        contact_point_value as link_key_value,
        customer_count
    from contact_points
),

final as (
    select
        -- ids
        link_keys.customer_id,

        -- strings
        link_keys.link_key_type,
        link_keys.link_key_value,

        -- numerics
        link_keys.customer_count,

        -- booleans
        erased_customers.customer_id is not null as is_erased_customer
    from link_keys
    left join erased_customers
        on link_keys.customer_id = erased_customers.customer_id
)

select * from final
