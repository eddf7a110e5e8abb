{#
    Every record held about every customer, in every source, one row per
    (customer, source table, source record): what an erasure must delete upstream
    (privacy_erasure_manifest) and what a subject-access export must show
    (c360.privacy.access_export). Built on the complete identity graph, erased
    customers included.

    - person records (crm, shop, shop_guest, loyalty, support) through identity
      resolution; their source_table is the raw table they live in;
    - retired CRM contacts (not person records: they feed no profile, but they are
      still held) that carry one of the customer's emails or phones;
    - shop orders of the customer's accounts, and the order lines of every order of
      the customer (account orders and guest checkouts);
    - POS sales by the customer's loyalty card or to an e-receipt email of theirs;
    - web events of their shop accounts, and the anonymous events of every device
      that logged into one of those accounts (identity stitching);
    - marketing email events to their emails; consent events naming them by email,
      phone or shop account; privacy requests made with their email or phone.

    A record tied to the customer only through an identifier that several customers
    carry (a household email, a shared device) has is_shared_link true: it may be
    the other person's, so an erasure lists it for review and an access export
    withholds it.
#}
with

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

clustered as (
    select * from {{ ref('int_person_records_clustered') }}
),

contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
),

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

pos_transactions as (
    select * from {{ ref('stg_pos__transactions') }}
),

web_events as (
    select * from {{ ref('stg_web__events') }}
),

email_events as (
    select * from {{ ref('stg_email__events') }}
),

consent_events as (
    select * from {{ ref('stg_consent__events') }}
),

privacy_requests as (
    select * from {{ ref('stg_privacy__requests') }}
),

identity_graph as (
    select
        clustered.customer_id,
        person_records.source_system,
        case person_records.source_system
            when 'crm' then 'crm_contacts'
            when 'shop' then 'shop_customers'
            when 'shop_guest' then 'shop_orders'
            when 'loyalty' then 'loyalty_members'
            when 'support' then 'support_tickets'
        end as source_table,
        person_records.source_record_id,
        'person_record' as record_kind,
        'identity_graph' as linked_by,
        false as is_shared_link
    from person_records
    inner join clustered
        on person_records.person_record_id = clustered.person_record_id
),

retired_crm_contacts as (
    select
        contact_points.customer_id,
        'crm' as source_system,
        'crm_contacts' as source_table,
        crm_contacts.contact_id as source_record_id,
        'retired_record' as record_kind,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from crm_contacts
    inner join contact_points
        on
            contact_points.contact_point_type = 'email_key'
            and crm_contacts.email_key = contact_points.contact_point_value
    where crm_contacts.is_deleted
    union all
    select
        contact_points.customer_id,
        'crm' as source_system,
        'crm_contacts' as source_table,
        crm_contacts.contact_id as source_record_id,
        'retired_record' as record_kind,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from crm_contacts
    inner join contact_points
        on
            contact_points.contact_point_type = 'phone_e164'
            and crm_contacts.phone_e164 = contact_points.contact_point_value
    where crm_contacts.is_deleted
),

account_orders as (
    select
        contact_points.customer_id,
        shop_orders.order_id,
        contact_points.customer_count > 1 as is_shared_link
    from shop_orders
    inner join contact_points
        on
            contact_points.contact_point_type = 'shop_customer_id'
            and shop_orders.customer_id = contact_points.contact_point_value
),

customer_orders as (
    select
        customer_id,
        order_id,
        is_shared_link
    from account_orders
    union all
    select
        customer_id,
        source_record_id as order_id,
        false as is_shared_link
    from identity_graph
    where source_system = 'shop_guest'
),

activity as (
    select
        customer_id,
        'shop' as source_system,
        'shop_orders' as source_table,
        order_id as source_record_id,
        'shop_account' as linked_by,
        is_shared_link
    from account_orders
    union all
    select
        customer_orders.customer_id,
        'shop' as source_system,
        'shop_order_items' as source_table,
        order_items.order_item_id as source_record_id,
        'order' as linked_by,
        customer_orders.is_shared_link
    from order_items
    inner join customer_orders
        on order_items.order_id = customer_orders.order_id
    union all
    select
        contact_points.customer_id,
        'pos' as source_system,
        'pos_transactions' as source_table,
        pos_transactions.transaction_id as source_record_id,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from pos_transactions
    inner join contact_points
        on
            contact_points.contact_point_type = 'loyalty_card'
            and pos_transactions.loyalty_card_number = contact_points.contact_point_value
    union all
    select
        contact_points.customer_id,
        'pos' as source_system,
        'pos_transactions' as source_table,
        pos_transactions.transaction_id as source_record_id,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from pos_transactions
    inner join contact_points
        on
            contact_points.contact_point_type = 'email_key'
            and pos_transactions.receipt_email_key = contact_points.contact_point_value
    union all
    select
        contact_points.customer_id,
        'email' as source_system,
        'email_events' as source_table,
        email_events.event_id as source_record_id,
        'email_key' as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from email_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'email_key'
            and email_events.email_key = contact_points.contact_point_value
    union all
    select
        contact_points.customer_id,
        'consent' as source_system,
        'consent_events' as source_table,
        consent_events.event_id as source_record_id,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from consent_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'email_key'
            and consent_events.email_key = contact_points.contact_point_value
    union all
    select
        contact_points.customer_id,
        'consent' as source_system,
        'consent_events' as source_table,
        consent_events.event_id as source_record_id,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from consent_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'phone_e164'
            and consent_events.phone_e164 = contact_points.contact_point_value
    union all
    select
        contact_points.customer_id,
        'consent' as source_system,
        'consent_events' as source_table,
        consent_events.event_id as source_record_id,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from consent_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'shop_customer_id'
            and consent_events.customer_id = contact_points.contact_point_value
    union all
    select
        contact_points.customer_id,
        'privacy' as source_system,
        'privacy_requests' as source_table,
        privacy_requests.request_id as source_record_id,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from privacy_requests
    inner join contact_points
        on
            contact_points.contact_point_type = 'email_key'
            and privacy_requests.email_key = contact_points.contact_point_value
    union all
    select
        contact_points.customer_id,
        'privacy' as source_system,
        'privacy_requests' as source_table,
        privacy_requests.request_id as source_record_id,
        contact_points.contact_point_type as linked_by,
        contact_points.customer_count > 1 as is_shared_link
    from privacy_requests
    inner join contact_points
        on
            contact_points.contact_point_type = 'phone_e164'
            and privacy_requests.phone_e164 = contact_points.contact_point_value
),

account_web_events as (
    select
        contact_points.customer_id,
        web_events.event_id,
        web_events.anonymous_id
    from web_events
    inner join contact_points
        on
            contact_points.contact_point_type = 'shop_customer_id'
            and web_events.customer_id = contact_points.contact_point_value
),

-- devices that logged into the customer's account, and how many customers each served
device_logins as (
    select distinct
        customer_id,
        anonymous_id
    from account_web_events
    where anonymous_id is not null
),

device_owners as (
    select
        customer_id,
        anonymous_id,
        count(*) over (partition by anonymous_id) as device_customers
    from device_logins
),

web_activity as (
    select
        customer_id,
        event_id,
        'shop_account' as linked_by,
        false as is_shared_link
    from account_web_events
    union all
    select
        device_owners.customer_id,
        web_events.event_id,
        'device_login' as linked_by,
        device_owners.device_customers > 1 as is_shared_link
    from web_events
    inner join device_owners
        on web_events.anonymous_id = device_owners.anonymous_id
    where web_events.customer_id is null
),

links as (
    select
        customer_id,
        source_system,
        source_table,
        source_record_id,
        record_kind,
        linked_by,
        is_shared_link
    from identity_graph
    union all
    select
        customer_id,
        source_system,
        source_table,
        source_record_id,
        record_kind,
        linked_by,
        is_shared_link
    from retired_crm_contacts
    union all
    select
        customer_id,
        source_system,
        source_table,
        source_record_id,
        'activity' as record_kind,
        linked_by,
        is_shared_link
    from activity
    union all
    select
        customer_id,
        'web' as source_system,
        'web_events' as source_table,
        event_id as source_record_id,
        'activity' as record_kind,
        linked_by,
        is_shared_link
    from web_activity
),

distinct_links as (
    select distinct * from links
),

final as (
    select
        -- ids
        customer_id,
        source_record_id,

        -- strings
        source_system,
        source_table,
        -- one kind per record (retired CRM rows are never person records)
        min(record_kind) as record_kind,
        {{ dbt.listagg('linked_by', "','", 'order by linked_by') }} as linked_by,

        -- booleans
        -- shared only if every link to the customer goes through a shared identifier
        min(case when is_shared_link then 1 else 0 end) = 1 as is_shared_link
    from distinct_links
    group by customer_id, source_system, source_table, source_record_id
)

select * from final
