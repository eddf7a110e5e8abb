{#
    Every online order and in-store sale, one row each, with the customer where
    it can be known: the shop account or guest checkout through identity
    resolution; a POS sale through its loyalty card, else its e-receipt email when
    that email belongs to exactly one customer. Revenue is in the reporting
    currency and counts only completed orders (a cancelled or refunded order is
    kept, with net_revenue 0). The orders of a customer with an erasure request
    stay (revenue totals stay true) but anonymised: customer_id and attributed_by
    are NULL, as for a cash sale nobody can be named for.
#}
with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

identifiers as (
    select * from {{ ref('int_person_records_resolved') }}
),

unique_contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
    where customer_count = 1
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

items_per_order as (
    select
        order_id,
        cast(sum(quantity) as {{ dbt.type_bigint() }}) as item_quantity,
        count(*) as line_count
    from order_items
    group by order_id
),

matched as (
    select
        orders.*,
        coalesce(identifiers.customer_id, by_card.customer_id, by_receipt.customer_id) as matched_customer_id,
        case
            when identifiers.customer_id is not null and orders.person_record_id like 'shop_guest:%'
                then 'guest_checkout'
            when identifiers.customer_id is not null then 'shop_account'
            when by_card.customer_id is not null then 'loyalty_card'
            when by_receipt.customer_id is not null then 'receipt_email'
        end as matched_by
    from orders
    left join identifiers
        on orders.person_record_id = identifiers.person_record_id
    left join unique_contact_points as by_card
        on
            by_card.contact_point_type = 'loyalty_card'
            and orders.loyalty_card_number = by_card.contact_point_value
    left join unique_contact_points as by_receipt
        on
            by_receipt.contact_point_type = 'email_key'
            and orders.receipt_email_key = by_receipt.contact_point_value
),

attributed as (
    select
        matched.*,
        case
            when not {{ is_erased_customer('matched.matched_customer_id') }} then matched.matched_customer_id
        end as customer_id,
        case
            when not {{ is_erased_customer('matched.matched_customer_id') }} then matched.matched_by
        end as attributed_by
    from matched
),

final as (
    select
        -- ids
        attributed.order_key,
        attributed.customer_id,
        attributed.source_order_id,

        -- strings
        attributed.channel,
        attributed.order_status,
        attributed.attributed_by,
        attributed.currency,

        -- numerics
        attributed.amount,
        attributed.amount * currency_rates.rate_to_reporting_currency as amount_reporting,
        case
            when attributed.order_status in ('completed', 'returned')
                then attributed.amount * currency_rates.rate_to_reporting_currency
            else 0
        end as net_revenue,
        items_per_order.item_quantity,
        items_per_order.line_count,

        -- booleans
        coalesce(attributed.order_status = 'completed', false) as is_purchase,
        attributed.amount is not null and currency_rates.currency is null as dq_currency_unknown,

        -- timestamps
        attributed.ordered_at
    from attributed
    left join currency_rates
        on attributed.currency = currency_rates.currency
    left join items_per_order
        on
            attributed.channel = 'online'
            and attributed.source_order_id = items_per_order.order_id
)

select * from final
