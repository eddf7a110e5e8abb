{{ config(materialized='view') }}
{#
    customer_360 for analysts who must not see raw PII: the same columns, every
    column tagged meta: {pii: true} in customer_360's YAML masked by the
    masked_columns macro (text -> sha256, joinable but unreadable; dates -> year
    only; lists -> list of sha256). Tagging a new column masks it here with no SQL
    change. A view, so it is never staler than customer_360 and inherits its drop
    of erased customers.
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
