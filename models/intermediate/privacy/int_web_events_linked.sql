{#
    Web events of the customer: the events of their shop accounts, and the anonymous
    events of every device that logged into one of them (identity stitching). One
    row per (customer, event). An anonymous event of a device several customers
    logged in on is a shared link: it may be another person's browsing.
#}
with

-- two imports, not one read twice: DuckDB materialises a CTE read twice, whole
logged_in_web_events as (
    select * from {{ ref('stg_web__events') }}
    where customer_id is not null
),

anonymous_web_events as (
    select * from {{ ref('stg_web__events') }}
    where customer_id is null
),

shop_accounts as (
    select * from {{ ref('int_customer_link_keys_flagged') }}
    where link_key_type = 'shop_customer_id'
),

customer_devices as (
    select * from {{ ref('int_customer_devices_counted') }}
),

account_events as (
    select
        shop_accounts.customer_id,
        logged_in_web_events.event_id,
        'shop_account' as linked_by,
        false as is_shared_link,
        shop_accounts.is_erased_customer
    from logged_in_web_events
    inner join shop_accounts
        on logged_in_web_events.customer_id = shop_accounts.link_key_value
),

device_events as (
    select
        customer_devices.customer_id,
        anonymous_web_events.event_id,
        'device_login' as linked_by,
        customer_devices.device_customers > 1 as is_shared_link,
        customer_devices.is_erased_customer
    from anonymous_web_events
    inner join customer_devices
        on anonymous_web_events.anonymous_id = customer_devices.anonymous_id
),

events as (
    select * from account_events
    union all
    select * from device_events
),

final as (
    select
        -- ids
        customer_id,
        event_id as source_record_id,

        -- strings
        'web' as source_system,
        'web_events' as source_table,
        'activity' as record_kind,
        linked_by,

        -- booleans
        is_shared_link,
        is_erased_customer
    from events
)

select * from final
