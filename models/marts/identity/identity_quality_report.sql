{#
    How identity resolution went, as one long table a BI tool can chart:
    cluster sizes, share of singletons, customers whose records disagree on date of
    birth or first name (a typo or a single stray value the guards forgave, or a
    must-link decision), and how often records of one source are linked to records
    of another.
#}
with

-- the customers that remain: those with an erasure request are not counted
records as (
    select * from {{ ref('int_person_records_resolved') }}
    where {{ without_erased_customers('customer_id') }}
),

customers as (
    select
        customer_id,
        count(*) as records_in_customer,
        count(distinct birth_date) as distinct_birth_dates,
        count(distinct first_name_canonical) as distinct_first_names
    from records
    group by customer_id
),

size_distribution as (
    select
        'cluster_size' as metric_group,
        case
            when records_in_customer >= 10 then '10+'
            else cast(records_in_customer as {{ dbt.type_string() }})
        end as dimension,
        cast(count(*) as double) as metric_value
    from customers
    group by dimension
),

overall as (
    select
        'overall' as metric_group,
        'customers' as dimension,
        cast(count(*) as double) as metric_value
    from customers
    union all
    select
        'overall' as metric_group,
        'person_records' as dimension,
        cast(sum(records_in_customer) as double) as metric_value
    from customers
    union all
    select
        'overall' as metric_group,
        'singleton_share' as dimension,
        avg(case when records_in_customer = 1 then 1.0 else 0.0 end) as metric_value
    from customers
    union all
    select
        'overall' as metric_group,
        'customers_with_conflicting_birth_dates' as dimension,
        cast(sum(case when distinct_birth_dates > 1 then 1 else 0 end) as double) as metric_value
    from customers
    union all
    select
        'overall' as metric_group,
        'customers_with_several_first_names' as dimension,
        cast(sum(case when distinct_first_names > 1 then 1 else 0 end) as double) as metric_value
    from customers
),

source_pairs as (
    select distinct
        left_record.customer_id,
        left_record.source_system as source_l,
        right_record.source_system as source_r
    from records as left_record
    inner join records as right_record
        on
            left_record.customer_id = right_record.customer_id
            and left_record.source_system < right_record.source_system
),

customers_per_source as (
    select
        source_system,
        count(distinct customer_id) as customers_with_source
    from records
    group by source_system
),

match_rates as (
    -- share of the customers with a record in source_l that also have one in source_r
    select
        'match_rate' as metric_group,
        source_pairs.source_l || ' -> ' || source_pairs.source_r as dimension,
        count(*) * 1.0 / max(customers_per_source.customers_with_source) as metric_value
    from source_pairs
    inner join customers_per_source
        on source_pairs.source_l = customers_per_source.source_system
    group by source_pairs.source_l, source_pairs.source_r
),

unioned as (
    select * from size_distribution
    union all
    select * from overall
    union all
    select * from match_rates
),

final as (
    select
        -- ids
        metric_group || ':' || dimension as identity_quality_metric_id,

        -- strings
        metric_group,
        dimension,

        -- numerics
        metric_value
    from unioned
)

select * from final
