{#
    Staging never drops a row: each staging model has exactly as many rows as
    the raw file it reads. Returns one row per table whose counts differ.
#}
{%- set tables = [
    ('crm', 'contacts', 'stg_crm__contacts'),
    ('shop', 'customers', 'stg_shop__customers'),
    ('shop', 'orders', 'stg_shop__orders'),
    ('shop', 'order_items', 'stg_shop__order_items'),
    ('pos', 'transactions', 'stg_pos__transactions'),
    ('loyalty', 'members', 'stg_loyalty__members'),
    ('support', 'tickets', 'stg_support__tickets'),
    ('web', 'events', 'stg_web__events'),
    ('email', 'events', 'stg_email__events'),
    ('consent', 'events', 'stg_consent__events'),
    ('privacy', 'requests', 'stg_privacy__requests'),
] -%}

with

row_counts as (
    {%- for source_name, table_name, model in tables %}
        select
            '{{ model }}' as model_name,
            (select count(*) from {{ source(source_name, table_name) }}) as raw_rows,
            (select count(*) from {{ ref(model) }}) as staged_rows
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from row_counts
where raw_rows != staged_rows
