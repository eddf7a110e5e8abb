{#
    Every identifier of a customer as sorted lists (emails, phones, source ids per
    system), and when the customer was first and last seen in any person record.
#}
{%- set systems = ['crm', 'shop', 'shop_guest', 'loyalty', 'support'] -%}
with

-- customers with an erasure request have no profile
customer_records as (
    select * from {{ ref('int_person_records_resolved') }}
    where {{ without_erased_customers('customer_id') }}
),

final as (
    select
        -- ids
        customer_id,

        -- lists
        {{ collect_distinct('email') }} as emails,
        {{ collect_distinct('phone_e164') }} as phones,
        {% for system in systems -%}
            {{ collect_distinct("case when source_system = '" ~ system ~ "' then source_record_id end") }}
                as {{ system }}_record_ids,
        {% endfor -%}
        {{ collect_distinct('source_system') }} as source_systems,

        -- numerics
        count(*) as person_record_count,

        -- timestamps
        min(record_created_at) as records_first_seen_at,
        max(coalesce(record_updated_at, record_created_at)) as records_last_seen_at
    from customer_records
    group by customer_id
)

select * from final
