{#
    RFM segments and historical customer lifetime value, one row per customer with
    at least one purchase. Recency, frequency and monetary value are scored in
    quintiles (5 = best; ties broken by customer_id so scores are stable); the
    segment names follow the usual RFM grid on recency and frequency.
#}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

commerce as (
    select * from {{ ref('int_customer_commerce_summarised') }}
    where purchase_count > 0
),

measured as (
    select
        commerce.customer_id,
        {{ days_between('commerce.last_purchase_at', 'as_of.as_of_date') }} as recency_days,
        commerce.purchase_count as frequency,
        commerce.net_revenue as monetary,
        {{ days_between('commerce.first_purchase_at', 'as_of.as_of_date') }} as customer_age_days
    from commerce
    cross join as_of
),

scored as (
    select
        *,
        ntile(5) over (order by recency_days desc, customer_id asc) as recency_score,
        ntile(5) over (order by frequency asc, customer_id asc) as frequency_score,
        ntile(5) over (order by monetary asc, customer_id asc) as monetary_score
    from measured
),

final as (
    select
        -- ids
        customer_id,

        -- strings
        case
            when recency_score >= 4 and frequency_score >= 4 then 'champions'
            when recency_score >= 3 and frequency_score >= 3 then 'loyal'
            when recency_score >= 4 then 'new_or_promising'
            when recency_score <= 2 and frequency_score >= 4 then 'cannot_lose'
            when recency_score <= 2 and frequency_score >= 2 then 'at_risk'
            when recency_score = 3 then 'needs_attention'
            else 'hibernating'
        end as rfm_segment,
        {{ dbt.concat([
            'cast(recency_score as ' ~ dbt.type_string() ~ ')',
            'cast(frequency_score as ' ~ dbt.type_string() ~ ')',
            'cast(monetary_score as ' ~ dbt.type_string() ~ ')']) }} as rfm_code,

        -- numerics
        recency_days,
        frequency,
        monetary,
        recency_score,
        frequency_score,
        monetary_score,
        monetary as historical_clv,
        -- value per year of relationship; a first year counts as a whole year
        monetary * 365.0 / greatest(customer_age_days, 365) as average_annual_value
    from scored
    where {{ without_erased_customers('customer_id') }}
)

select * from final
