{#
    The golden record's values, one row per customer and attribute, chosen by the
    survivorship seeds. Every non-null value of every person record of the
    customer is a candidate; the seed's strategy for the attribute decides first
    (source_priority, most_recent or most_frequent), and ties fall through to
    source priority, then most recent, then most frequent, then the record key, so
    the winner is the same on every build. The winning record is kept as lineage.
#}
{%- set attributes = ['first_name', 'last_name', 'email', 'phone_e164', 'birth_date',
    'street_address', 'city', 'postal_code', 'country'] -%}
with

-- customers with an erasure request have no golden record
resolved as (
    select * from {{ ref('int_person_records_resolved') }}
    where {{ without_erased_customers('customer_id') }}
),

rules as (
    select * from {{ ref('survivorship_rules') }}
),

source_priorities as (
    select * from {{ ref('survivorship_source_priority') }}
),

customer_records as (
    select
        *,
        coalesce(record_updated_at, record_created_at) as observed_at
    from resolved
),

candidates as (
    {% for attribute in attributes %}
        select
            customer_id,
            person_record_id,
            source_system,
            source_record_id,
            observed_at,
            -- the seeds name the phone attribute "phone"
            '{{ "phone" if attribute == "phone_e164" else attribute }}' as attribute_name,
            cast({{ attribute }} as {{ dbt.type_string() }}) as attribute_value
        from customer_records
        where {{ attribute }} is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

scored as (
    select
        candidates.*,
        coalesce(rules.strategy, 'source_priority') as strategy,
        -- a source the seed does not rank for this attribute comes last
        coalesce(source_priorities.priority, 999) as source_priority,
        count(*) over (
            partition by candidates.customer_id, candidates.attribute_name, candidates.attribute_value
        ) as value_frequency
    from candidates
    left join rules
        on candidates.attribute_name = rules.attribute
    left join source_priorities
        on
            candidates.attribute_name = source_priorities.attribute
            and candidates.source_system = source_priorities.source_system
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, attribute_name
            order by
                case when strategy = 'most_recent' then observed_at end desc nulls last,
                case when strategy = 'most_frequent' then value_frequency end desc nulls last,
                source_priority asc,
                observed_at desc nulls last,
                value_frequency desc,
                person_record_id asc
        ) as survivor_rank
    from scored
),

final as (
    select
        -- ids
        customer_id,
        source_system,
        source_record_id,

        -- strings
        attribute_name,
        attribute_value,
        strategy,

        -- numerics
        source_priority,
        value_frequency,

        -- timestamps
        observed_at
    from ranked
    where survivor_rank = 1
)

select * from final
