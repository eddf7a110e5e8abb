{#
    customer_360 for analysts who must not see raw PII: the same columns, every
    column tagged meta: {pii: true} in customer_360's YAML masked as its meta
    `masking` says (masked_columns macro; threat model in docs/privacy.md). Tagging
    a new column drops it here with no SQL change. A table, not a view: the keyed
    hash is a UDF of the build's connection that BI readers do not have. Built from
    customer_360, so erased customers are absent here too.
#}
with

customer_360 as (
    select * from {{ ref('customer_360') }}
),

final as (
    select
        {{ masked_columns('customer_360', 'customer_360') }}
    from customer_360
)

select * from final
