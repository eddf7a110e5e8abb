with

source as (
    select * from {{ checked_source('pos', 'transactions') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('transaction_id') }} as transaction_id,
        {{ clean_code('store_id') }} as store_id,
        upper({{ regexp_replace_all(clean_code('loyalty_card_number'), '[^A-Za-z0-9]', '') }})
            as loyalty_card_number,

        -- strings
        {{ normalize_email('receipt_email') }} as receipt_email,
        {{ clean_text('receipt_email') }} as raw_receipt_email,
        upper({{ clean_code('currency') }}) as currency,

        -- numerics
        {{ parse_decimal('amount') }} as amount,
        {{ clean_code('amount') }} as raw_amount,

        -- timestamps
        {{ parse_timestamp('transacted_at') }} as transacted_at,
        {{ clean_code('transacted_at') }} as raw_transacted_at
    from source
),

flagged as (
    select
        *,
        {{ contact_email_junk('receipt_email') }}
    from parsed
),

final as (
    select
        -- ids
        transaction_id,
        store_id,
        loyalty_card_number,

        -- strings
        {{ contact_email_columns('receipt_email') }},
        currency,

        -- numerics
        amount,

        -- booleans
        {{ dq_unparseable('raw_amount', 'amount') }} as dq_amount_unparseable,
        {{ dq_unparseable('raw_transacted_at', 'transacted_at') }} as dq_transacted_at_unparseable,

        -- timestamps
        transacted_at
    from flagged
)

select * from final
