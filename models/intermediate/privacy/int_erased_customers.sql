{#
    Erasure requests resolved to customers: one row per (request, customer).
    The request's email (by match key) and phone are looked up in the complete
    identity graph (int_contact_points_mapped), so a request made with an old email
    still finds the customer, and the erasure then covers every record of that
    customer, whatever email those records carry (source contract).
    Every erasure request counts whatever its status: a received request suppresses
    the customer from the marts from the day it is logged.
    An identifier carried by several customers (a household email, a shared home
    phone) names them all: all of them are suppressed (the safe side for the
    requester: nothing of theirs stays visible while a person decides) and the rows
    are flagged is_ambiguous_request, which privacy_erasure_manifest carries as
    needs_review, so nobody deletes a relative's records upstream unchecked.
#}
with

requests as (
    select * from {{ ref('stg_privacy__requests') }}
    where request_type = 'erasure'
),

contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
    where contact_point_type in ('email_key', 'phone_e164')
),

matches as (
    select
        requests.request_id,
        contact_points.customer_id,
        contact_points.contact_point_type
    from requests
    inner join contact_points
        on
            contact_points.contact_point_type = 'email_key'
            and requests.email_key = contact_points.contact_point_value
    union all
    select
        requests.request_id,
        contact_points.customer_id,
        contact_points.contact_point_type
    from requests
    inner join contact_points
        on
            contact_points.contact_point_type = 'phone_e164'
            and requests.phone_e164 = contact_points.contact_point_value
),

per_customer as (
    select
        request_id,
        customer_id,
        max(case when contact_point_type = 'email_key' then 1 else 0 end) = 1 as is_matched_by_email,
        max(case when contact_point_type = 'phone_e164' then 1 else 0 end) = 1 as is_matched_by_phone
    from matches
    group by request_id, customer_id
),

candidates as (
    select
        *,
        count(*) over (partition by request_id) as candidate_customers
    from per_customer
),

final as (
    select
        -- ids
        {{ dbt.concat(['candidates.request_id', "'|'", 'candidates.customer_id']) }} as erased_customer_id,
        candidates.request_id,
        candidates.customer_id,

        -- strings
        case
            when candidates.is_matched_by_email and candidates.is_matched_by_phone then 'email_key+phone_e164'
            when candidates.is_matched_by_email then 'email_key'
            else 'phone_e164'
        end as matched_by,
        requests.status as request_status,

        -- numerics
        candidates.candidate_customers,

        -- booleans
        candidates.is_matched_by_email,
        candidates.is_matched_by_phone,
        candidates.candidate_customers > 1 as is_ambiguous_request,

        -- timestamps
        requests.received_at as request_received_at
    from candidates
    inner join requests
        on candidates.request_id = requests.request_id
)

select * from final
