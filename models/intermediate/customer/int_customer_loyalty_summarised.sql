{#
    Loyalty per customer: the highest tier among active memberships (seed
    loyalty_tiers ranks them) and the points held across them.
#}
with

members as (
    select * from {{ ref('stg_loyalty__members') }}
),

-- customers with an erasure request have no profile
identifiers as (
    select * from {{ ref('int_person_records_resolved') }}
    where source_system = 'loyalty' and {{ without_erased_customers('customer_id') }}
),

tiers as (
    select * from {{ ref('loyalty_tiers') }}
),

customer_members as (
    select
        identifiers.customer_id,
        members.member_id,
        members.tier,
        members.points_balance,
        members.enrolled_at,
        coalesce(members.status, 'active') = 'active' as is_active,
        cast(coalesce(tiers.tier_rank, 0) as {{ dbt.type_bigint() }}) as tier_rank
    from members
    inner join identifiers
        on members.member_id = identifiers.source_record_id
    left join tiers
        on members.tier = tiers.tier
),

best_tier as (
    select
        customer_id,
        tier,
        tier_rank,
        row_number() over (
            partition by customer_id order by is_active desc, tier_rank desc, member_id asc
        ) as tier_order
    from customer_members
),

totals as (
    select
        customer_id,
        cast(sum(case when is_active then points_balance else 0 end) as {{ dbt.type_bigint() }}) as loyalty_points,
        count(*) as loyalty_memberships,
        max(case when is_active then 1 else 0 end) = 1 as is_loyalty_active,
        min(enrolled_at) as loyalty_enrolled_at
    from customer_members
    group by customer_id
),

final as (
    select
        -- ids
        totals.customer_id,

        -- strings
        best_tier.tier as loyalty_tier,

        -- numerics
        best_tier.tier_rank as loyalty_tier_rank,
        totals.loyalty_points,
        totals.loyalty_memberships,

        -- booleans
        totals.is_loyalty_active,

        -- timestamps
        totals.loyalty_enrolled_at
    from totals
    inner join best_tier
        on
            totals.customer_id = best_tier.customer_id
            and best_tier.tier_order = 1
)

select * from final
