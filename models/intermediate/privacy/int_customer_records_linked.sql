{#
    Every record held about every customer, in every source, one row per (customer,
    source table, source record): the link models unioned, with the ways a record is
    tied to the customer merged. Built on the complete identity graph, erased
    customers included. Read through privacy_customer_records (the subject-access
    export, one customer at a time) and by privacy_erasure_manifest (the erased
    customers only, through is_erased_customer: see int_customer_link_keys_flagged).
#}
{%- set link_models = [
    'person_records',
    'identifier_records',
    'shop_orders',
    'shop_order_items',
    'web_events',
] -%}
with

person_records as (
    select * from {{ ref('int_person_records_linked') }}
),

identifier_records as (
    select * from {{ ref('int_identifier_records_linked') }}
),

shop_orders as (
    select * from {{ ref('int_shop_orders_linked') }}
),

shop_order_items as (
    select * from {{ ref('int_shop_order_items_linked') }}
),

web_events as (
    select * from {{ ref('int_web_events_linked') }}
),

links as (
    {% for link_model in link_models %}
        select
            customer_id,
            source_record_id,
            source_system,
            source_table,
            record_kind,
            linked_by,
            is_shared_link,
            is_erased_customer
        from {{ link_model }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

distinct_links as (
    select distinct * from links
),

final as (
    select
        -- ids
        customer_id,
        source_record_id,

        -- strings
        source_system,
        source_table,
        -- one kind per record (retired CRM rows are never person records)
        min(record_kind) as record_kind,
        {{ dbt.listagg('linked_by', "','", 'order by linked_by') }} as linked_by,

        -- booleans
        -- shared only if every link to the customer goes through a shared identifier
        min(case when is_shared_link then 1 else 0 end) = 1 as is_shared_link,
        -- a property of the customer: grouping by it keeps a filter on it
        -- pushed down to the link keys
        is_erased_customer
    from distinct_links
    group by customer_id, source_system, source_table, source_record_id, is_erased_customer
)

select * from final
