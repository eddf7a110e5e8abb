{#
    Pairs a human should look at: Splink put them between
    var('identity_review_min_probability') and var('identity_match_threshold'),
    so the build did not merge them. Ordered by how many records a "same person"
    decision would move (the smaller of the two customers). Confirm or reject a
    pair by adding it to seed identity_must_link or identity_cannot_link (the build
    obeys them), or label it in seed identity_pair_labels (the model learns from it
    at the next `make train`; docs/identity.md).
#}
with

scored_pairs as (
    select * from {{ ref('int_person_pairs_scored') }}
),

person_records as (
    select * from {{ ref('int_person_records_resolved') }}
),

customer_sizes as (
    select
        customer_id,
        count(*) as records_in_customer
    from person_records
    group by customer_id
),

uncertain_pairs as (
    select * from scored_pairs
    where
        match_probability >= {{ var('identity_review_min_probability') }}
        and match_probability < {{ var('identity_match_threshold') }}
),

final as (
    select
        -- ids
        {{ dbt.concat(['uncertain_pairs.person_record_id_l', "'|'", 'uncertain_pairs.person_record_id_r']) }}
            as review_pair_id,
        uncertain_pairs.person_record_id_l,
        uncertain_pairs.person_record_id_r,
        left_record.customer_id as customer_id_l,
        right_record.customer_id as customer_id_r,

        -- strings
        uncertain_pairs.comparison_levels,
        left_record.first_name as first_name_l,
        right_record.first_name as first_name_r,
        left_record.last_name as last_name_l,
        right_record.last_name as last_name_r,
        left_record.email as email_l,
        right_record.email as email_r,
        left_record.phone_e164 as phone_e164_l,
        right_record.phone_e164 as phone_e164_r,
        left_record.postal_code as postal_code_l,
        right_record.postal_code as postal_code_r,

        -- numerics
        uncertain_pairs.match_probability,
        uncertain_pairs.match_weight,
        case
            when left_record.customer_id = right_record.customer_id then 0
            else least(left_size.records_in_customer, right_size.records_in_customer)
        end as records_moved_if_merged,

        -- booleans
        left_record.customer_id = right_record.customer_id as is_already_same_customer,

        -- dates
        left_record.birth_date as birth_date_l,
        right_record.birth_date as birth_date_r
    from uncertain_pairs
    inner join person_records as left_record
        on uncertain_pairs.person_record_id_l = left_record.person_record_id
    inner join person_records as right_record
        on uncertain_pairs.person_record_id_r = right_record.person_record_id
    inner join customer_sizes as left_size
        on left_record.customer_id = left_size.customer_id
    inner join customer_sizes as right_size
        on right_record.customer_id = right_size.customer_id
    -- a pair touching an erased customer is nobody's to review any more
    where
        {{ without_erased_customers('left_record.customer_id') }}
        and {{ without_erased_customers('right_record.customer_id') }}
)

select * from final
order by records_moved_if_merged desc, match_probability desc, review_pair_id asc
