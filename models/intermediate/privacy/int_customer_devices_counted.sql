{#
    Devices (web anonymous ids) that logged into a customer's shop account, one row
    per (customer, device), with how many customers logged in on the device. Counted
    over every customer, so a device shared with anyone (a family computer) is
    shared for every reader, including one that keeps only the erased customers.
#}
with

web_events as (
    select * from {{ ref('stg_web__events') }}
    where
        customer_id is not null
        and anonymous_id is not null
),

shop_accounts as (
    select * from {{ ref('int_customer_link_keys_flagged') }}
    where link_key_type = 'shop_customer_id'
),

device_logins as (
    select distinct
        shop_accounts.customer_id,
        web_events.anonymous_id,
        shop_accounts.is_erased_customer
    from web_events
    inner join shop_accounts
        on web_events.customer_id = shop_accounts.link_key_value
),

final as (
    select
        -- ids
        customer_id,
        anonymous_id,

        -- numerics
        count(*) over (partition by anonymous_id) as device_customers,

        -- booleans
        is_erased_customer
    from device_logins
)

select * from final
