with

source as (
    select * from {{ checked_source('shop', 'orders') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('order_id') }} as order_id,
        {{ clean_code('customer_id') }} as customer_id,

        -- strings
        {{ normalize_email('guest_email') }} as guest_email,
        {{ clean_text('guest_email') }} as raw_guest_email,
        {{ parse_enum('status', ['completed', 'cancelled', 'refunded']) }} as status,
        {{ clean_code('status') }} as raw_status,
        upper({{ clean_code('currency') }}) as currency,
        {{ postal_code_key('shipping_postal_code') }} as shipping_postal_code,

        -- numerics
        {{ parse_decimal('total_amount') }} as total_amount,
        {{ clean_code('total_amount') }} as raw_total_amount,

        -- timestamps
        {{ parse_timestamp('ordered_at') }} as ordered_at,
        {{ parse_timestamp('updated_at') }} as updated_at,
        {{ clean_code('ordered_at') }} as raw_ordered_at,
        {{ clean_code('updated_at') }} as raw_updated_at
    from source
),

flagged as (
    select
        *,
        {{ contact_email_junk('guest_email') }}
    from parsed
),

final as (
    select
        -- ids
        order_id,
        customer_id,

        -- strings
        {{ contact_email_columns('guest_email') }},
        status,
        currency,
        shipping_postal_code,

        -- numerics
        total_amount,

        -- booleans
        customer_id is null as is_guest_order,
        {{ dq_unparseable('raw_status', 'status') }} as dq_status_unparseable,
        {{ dq_unparseable('raw_total_amount', 'total_amount') }} as dq_total_amount_unparseable,
        {{ dq_unparseable('raw_ordered_at', 'ordered_at') }} as dq_ordered_at_unparseable,
        {{ dq_unparseable('raw_updated_at', 'updated_at') }} as dq_updated_at_unparseable,

        -- timestamps
        ordered_at,
        updated_at
    from flagged
)

select * from final
