{#
    The customer's person records, through the identity graph: CRM contacts, shop
    accounts, guest checkouts, loyalty members and support tickets, each named by the
    raw table it lives in. One row per (customer, person record).
#}
with

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

person_record_keys as (
    select * from {{ ref('int_customer_link_keys_flagged') }}
    where link_key_type = 'person_record'
),

final as (
    select
        -- ids
        person_record_keys.customer_id,
        person_records.source_record_id,

        -- strings
        person_records.source_system,
        case person_records.source_system
            when 'crm' then 'crm_contacts'
            when 'shop' then 'shop_customers'
            when 'shop_guest' then 'shop_orders'
            when 'loyalty' then 'loyalty_members'
            when 'support' then 'support_tickets'
        end as source_table,
        'person_record' as record_kind,
        'identity_graph' as linked_by,

        -- booleans
        false as is_shared_link,
        person_record_keys.is_erased_customer
    from person_records
    inner join person_record_keys
        on person_records.person_record_id = person_record_keys.link_key_value
)

select * from final
