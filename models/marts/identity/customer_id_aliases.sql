{#
    Every customer id ever issued and the id that names its customer now: a sync keyed
    on an old id (merged into another) finds the customer under current_customer_id. An
    active id is its own current id; an id left with no records, or retired by a restart
    of the ids, has none. is_erased_customer: the current customer has an erasure request
    (the marts leave such customers out).
#}
with

aliases as (
    select * from {{ ref('int_customer_id_aliases') }}
),

final as (
    select
        -- ids
        customer_id,
        current_customer_id,
        issued_build_id,
        retired_build_id,
        successor_customer_id,

        -- numerics
        issue_number,

        -- booleans
        retired_build_id is null as is_active,
        {{ is_erased_customer('current_customer_id') }} as is_erased_customer,

        -- timestamps
        issued_at,
        retired_at
    from aliases
)

select * from final
