{#
    Which customer an identifier seen in activity data belongs to: an email match
    key, an E.164 phone, a loyalty card or a shop account id. An identifier carried
    by several customers (a household email, a shared home phone) keeps one row per
    customer and customer_count > 1: activity is attributed through it only when it
    names exactly one customer (merging two people is worse than not attributing).
    Built from the complete identity graph (int_person_records_resolved), erased
    customers included: an erasure request resolves through it, and an identifier
    an erased customer shared with someone else stays ambiguous, so the erased
    person's activity is never credited to the other one. The marts drop erased
    customers (macro without_erased_customers).
#}
with

customer_records as (
    select * from {{ ref('int_person_records_resolved') }}
),

loyalty_members as (
    select * from {{ ref('stg_loyalty__members') }}
),

contact_points as (
    select distinct
        'email_key' as contact_point_type,
        email_key as contact_point_value,
        customer_id
    from customer_records
    where email_key is not null
    union all
    select distinct
        'phone_e164' as contact_point_type,
        phone_e164 as contact_point_value,
        customer_id
    from customer_records
    where phone_e164 is not null
    union all
    select distinct
        'loyalty_card' as contact_point_type,
        loyalty_members.card_number as contact_point_value,
        customer_records.customer_id
    from loyalty_members
    inner join customer_records
        on
            customer_records.source_system = 'loyalty'
            and loyalty_members.member_id = customer_records.source_record_id
    where loyalty_members.card_number is not null
    union all
    select distinct
        'shop_customer_id' as contact_point_type,
        source_record_id as contact_point_value,
        customer_id
    from customer_records
    where source_system = 'shop'
),

final as (
    select
        -- ids
        customer_id,

        -- strings
        contact_point_type,
        contact_point_value,

        -- numerics
        count(*) over (partition by contact_point_type, contact_point_value) as customer_count
    from contact_points
)

select * from final
