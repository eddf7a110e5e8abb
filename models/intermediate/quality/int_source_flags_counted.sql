{#
    Every data-quality flag of staging counted: one row per raw table, column and
    issue (unparseable or junk), with the rows checked and how many had the issue.
    The dq_<column>_<issue> flags are found by name at run time (macro
    count_dq_flags), so a new flag is counted without touching this model; a new
    staging model is listed here. Kept apart from source_data_quality so that the
    mart reads one model for all of staging.
#}
with

flag_counts as (
    {{ count_dq_flags([
        ('crm_contacts', ref('stg_crm__contacts')),
        ('shop_customers', ref('stg_shop__customers')),
        ('shop_orders', ref('stg_shop__orders')),
        ('shop_order_items', ref('stg_shop__order_items')),
        ('pos_transactions', ref('stg_pos__transactions')),
        ('loyalty_members', ref('stg_loyalty__members')),
        ('support_tickets', ref('stg_support__tickets')),
        ('web_events', ref('stg_web__events')),
        ('email_events', ref('stg_email__events')),
        ('consent_events', ref('stg_consent__events')),
        ('privacy_requests', ref('stg_privacy__requests')),
    ]) }}
),

final as (
    select
        -- strings
        source_table,
        column_name,
        issue,

        -- numerics
        rows_in_table,
        affected_rows
    from flag_counts
)

select * from final
