{#
    Every declared audience's members, one row per audience and customer, in the
    shape reverse-ETL tools sync: the stable key customer_id, the identifiers the
    channel needs, their SHA-256 forms for ad platforms, and a few attributes for
    personalisation. A row exists only with consent on the audience's channel, an
    identifier for it, and no suppression (do-not-contact, unsubscribe) on it;
    customers with an erasure request are already absent from customer_360.
#}
{%- set audiences = audience_definitions() %}
with

customers as (
    select * from {{ ref('customer_360') }}
),

churn_features as (
    select * from {{ ref('churn_features') }}
),

signals as (
    select * from {{ ref('int_customer_activation_signals') }}
),

suppressions as (
    select * from {{ ref('int_customer_suppressions') }}
),

latest_snapshot as (
    select max(snapshot_date) as snapshot_date
    from churn_features
),

latest_features as (
    select churn_features.*
    from churn_features
    inner join latest_snapshot
        on churn_features.snapshot_date = latest_snapshot.snapshot_date
),

members as (
    {% for audience in audiences %}
        select
            '{{ audience.name }}' as audience_name,
            '{{ audience.channel }}' as channel,
            customer.customer_id
        from customers as customer
        -- every predicate may use features and signals, whether this one does or not
        left join latest_features as features  -- noqa: ST11
            on customer.customer_id = features.customer_id
        left join signals  -- noqa: ST11
            on customer.customer_id = signals.customer_id
        where
            ({{ audience.predicate }})
            and {{ audience_contactable(audience.channel) }}
        union all
    {% endfor %}
    -- keeps the union well formed, and the model buildable with no audience declared
    select
        cast(null as {{ dbt.type_string() }}) as audience_name,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as customer_id
    where false
),

allowed as (
    select members.*
    from members
    left join suppressions
        on
            members.customer_id = suppressions.customer_id
            and suppressions.channel in ('all', members.channel)
    where suppressions.customer_id is null
),

final as (
    select distinct
        -- ids
        {{ dbt.concat(['allowed.audience_name', "'|'", 'allowed.customer_id']) }} as audience_member_id,
        allowed.customer_id,

        -- strings
        allowed.audience_name,
        allowed.channel,
        customers.email,
        customers.phone_e164,
        {{ sha256('customers.email') }} as email_sha256,
        {{ sha256(gmail_dots_removed('customers.email')) }} as email_sha256_google,
        {{ sha256('customers.phone_e164') }} as phone_sha256,
        {{ sha256("replace(customers.phone_e164, '+', '')") }} as phone_sha256_digits,
        customers.first_name,
        customers.loyalty_tier,
        customers.favourite_category,
        customers.churn_risk_band,
        customers.rfm_segment,

        -- numerics
        customers.net_revenue,
        customers.churn_probability
    from allowed
    inner join customers
        on allowed.customer_id = customers.customer_id
)

select * from final
