with

source as (
    select * from {{ checked_source('shop', 'order_items') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('order_id') }} as order_id,
        {{ clean_code('sku') }} as sku,

        -- strings
        lower({{ clean_code('product_category') }}) as product_category,

        -- numerics
        {{ parse_integer('line_number') }} as line_number,
        {{ parse_integer('quantity') }} as quantity,
        {{ parse_decimal('unit_price') }} as unit_price,
        {{ clean_code('line_number') }} as raw_line_number,
        {{ clean_code('quantity') }} as raw_quantity,
        {{ clean_code('unit_price') }} as raw_unit_price
    from source
),

final as (
    select
        -- ids
        -- the raw line number text keeps the key unique even when it does not parse
        {{ dbt.concat(['order_id', "'-'", "coalesce(raw_line_number, '')"]) }} as order_item_id,
        order_id,
        sku,

        -- strings
        product_category,

        -- numerics
        line_number,
        quantity,
        unit_price,
        quantity * unit_price as line_amount,

        -- booleans
        {{ dq_unparseable('raw_line_number', 'line_number') }} as dq_line_number_unparseable,
        {{ dq_unparseable('raw_quantity', 'quantity') }} as dq_quantity_unparseable,
        {{ dq_unparseable('raw_unit_price', 'unit_price') }} as dq_unit_price_unparseable
    from parsed
)

select * from final
