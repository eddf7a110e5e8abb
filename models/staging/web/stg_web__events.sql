with

source as (
    select * from {{ checked_source('web', 'events') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('event_id') }} as event_id,
        {{ clean_code('anonymous_id') }} as anonymous_id,
        {{ clean_code('customer_id') }} as customer_id,

        -- strings
        lower({{ clean_code('event_type') }}) as event_type,
        {{ clean_code('page_path') }} as page_path,
        lower({{ clean_code('product_category') }}) as product_category,

        -- timestamps
        {{ parse_timestamp('occurred_at') }} as occurred_at,
        {{ clean_code('occurred_at') }} as raw_occurred_at
    from source
),

final as (
    select
        -- ids
        event_id,
        anonymous_id,
        customer_id,

        -- strings
        event_type,
        page_path,
        product_category,

        -- booleans
        {{ dq_unparseable('raw_occurred_at', 'occurred_at') }} as dq_occurred_at_unparseable,

        -- timestamps
        occurred_at
    from parsed
)

select * from final
