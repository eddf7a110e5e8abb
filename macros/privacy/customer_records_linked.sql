{#
    Every record held about a customer, in every source, one row per (customer,
    source table, source record): the query behind int_customer_records_linked (what
    a subject-access export shows) and privacy_erasure_manifest (what an erasure
    deletes upstream). Built on the complete identity graph, erased customers
    included.

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

    customers=none: every customer. customers='<relation or CTE name>' (anything with
    a customer_id column that can follow `from`): only those customers, restricted
    before the activity tables are joined (identity graph, identifiers, web events),
    so a few hundred erased customers probe the millions of activity rows instead of
    every customer's records being built and then thrown away. Sharing is still
    judged against every customer: customer_count comes from
    int_contact_points_mapped (counted over all customers), and how many customers
    used a device is counted over everyone who logged in on it, so a device shared
    with someone outside the scope stays shared. Rendered as a whole query (with ...
    select); inside a caller's CTE, the caller's CTEs defined before it must not reuse
    these CTE names (Spark rejects such clashes in nested CTEs).
#}
{% macro customer_records_linked(customers=none) -%}
    {%- set is_scoped = customers is not none -%}
    {%- set in_scope = 'in (select scoped_customers.customer_id from scoped_customers)' -%}
    {#-
        A source record names a customer through an identifier of theirs
        (int_contact_points_mapped): one join shape for every (source, identifier)
        pair below, rendered by one loop so the branches cannot drift apart. A new
        identifier column of a source is a new line here, not a copied join.
        (import CTE, source_system, source_table, record_kind, record id column,
        identifier column, contact_point_type)
    -#}
    {%- set identifier_links = [
        ('retired_crm_contacts', 'crm', 'crm_contacts', 'retired_record', 'contact_id', 'email_key', 'email_key'),
        ('retired_crm_contacts', 'crm', 'crm_contacts', 'retired_record', 'contact_id', 'phone_e164', 'phone_e164'),
        ('pos_transactions', 'pos', 'pos_transactions', 'activity', 'transaction_id', 'loyalty_card_number',
            'loyalty_card'),
        ('pos_transactions', 'pos', 'pos_transactions', 'activity', 'transaction_id', 'receipt_email_key',
            'email_key'),
        ('email_events', 'email', 'email_events', 'activity', 'event_id', 'email_key', 'email_key'),
        ('consent_events', 'consent', 'consent_events', 'activity', 'event_id', 'email_key', 'email_key'),
        ('consent_events', 'consent', 'consent_events', 'activity', 'event_id', 'phone_e164', 'phone_e164'),
        ('consent_events', 'consent', 'consent_events', 'activity', 'event_id', 'customer_id', 'shop_customer_id'),
        ('privacy_requests', 'privacy', 'privacy_requests', 'activity', 'request_id', 'email_key', 'email_key'),
        ('privacy_requests', 'privacy', 'privacy_requests', 'activity', 'request_id', 'phone_e164', 'phone_e164'),
    ] -%}
with

{% if is_scoped -%}
scoped_customers as (
    select distinct customer_id from {{ customers }}
),

{% endif -%}
person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

clustered as (
    select clustered_records.*
    from {{ ref('int_person_records_clustered') }} as clustered_records
    {%- if is_scoped %}
    -- an inner join on the (distinct) scoped customers, not `in (...)`: the optimizer
    -- then knows the rows are few and builds its hash tables on them, not on the
    -- activity tables they are joined to (same below)
    inner join scoped_customers
        on clustered_records.customer_id = scoped_customers.customer_id
    {%- endif %}
),

-- every customer's identifiers, with customer_count counted over all customers
contact_points as (
    select * from {{ ref('int_contact_points_mapped') }}
),

customer_contact_points as (
    select contact_points.*
    from contact_points
    {%- if is_scoped %}
    inner join scoped_customers
        on contact_points.customer_id = scoped_customers.customer_id
    {%- endif %}
),

retired_crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where is_deleted
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
    {%- if is_scoped %}
    -- the events of the customers' shop accounts and every event of a device that
    -- logged into one of them, whoever else used it
    where
        customer_id in (
            select customer_contact_points.contact_point_value
            from customer_contact_points
            where customer_contact_points.contact_point_type = 'shop_customer_id'
        )
        or anonymous_id in (
            select account_events.anonymous_id
            from {{ ref('stg_web__events') }} as account_events
            inner join customer_contact_points
                on
                    customer_contact_points.contact_point_type = 'shop_customer_id'
                    and account_events.customer_id = customer_contact_points.contact_point_value
        )
    {%- endif %}
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

identifier_links as (
    {%- for source, source_system, source_table, record_kind, record_id, identifier, contact_point_type
        in identifier_links %}
    select
        customer_contact_points.customer_id,
        '{{ source_system }}' as source_system,
        '{{ source_table }}' as source_table,
        {{ source }}.{{ record_id }} as source_record_id,
        '{{ record_kind }}' as record_kind,
        customer_contact_points.contact_point_type as linked_by,
        customer_contact_points.customer_count > 1 as is_shared_link
    from {{ source }}
    inner join customer_contact_points
        on
            customer_contact_points.contact_point_type = '{{ contact_point_type }}'
            and {{ source }}.{{ identifier }} = customer_contact_points.contact_point_value
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

account_orders as (
    select
        customer_contact_points.customer_id,
        shop_orders.order_id,
        customer_contact_points.customer_count > 1 as is_shared_link
    from shop_orders
    inner join customer_contact_points
        on
            customer_contact_points.contact_point_type = 'shop_customer_id'
            and shop_orders.customer_id = customer_contact_points.contact_point_value
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

order_links as (
    select
        customer_id,
        'shop' as source_system,
        'shop_orders' as source_table,
        order_id as source_record_id,
        'activity' as record_kind,
        'shop_account' as linked_by,
        is_shared_link
    from account_orders
    union all
    select
        customer_orders.customer_id,
        'shop' as source_system,
        'shop_order_items' as source_table,
        order_items.order_item_id as source_record_id,
        'activity' as record_kind,
        'order' as linked_by,
        customer_orders.is_shared_link
    from order_items
    inner join customer_orders
        on order_items.order_id = customer_orders.order_id
),

-- logged-in web events with the customer of the account, for every customer (not only
-- the scoped ones): device_customers below must count everyone who used a device
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

-- devices that logged into a customer's account, and how many customers each served
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

web_links as (
    select
        customer_id,
        'web' as source_system,
        'web_events' as source_table,
        event_id as source_record_id,
        'activity' as record_kind,
        'shop_account' as linked_by,
        false as is_shared_link
    from account_web_events
    {%- if is_scoped %}
    where customer_id {{ in_scope }}
    {%- endif %}
    union all
    select
        device_owners.customer_id,
        'web' as source_system,
        'web_events' as source_table,
        web_events.event_id as source_record_id,
        'activity' as record_kind,
        'device_login' as linked_by,
        device_owners.device_customers > 1 as is_shared_link
    from web_events
    inner join device_owners
        on web_events.anonymous_id = device_owners.anonymous_id
    where
        web_events.customer_id is null
        {%- if is_scoped %}
        and device_owners.customer_id {{ in_scope }}
        {%- endif %}
),

links as (
    {%- for branch in ['identity_graph', 'identifier_links', 'order_links', 'web_links'] %}
    select
        customer_id,
        source_system,
        source_table,
        source_record_id,
        record_kind,
        linked_by,
        is_shared_link
    from {{ branch }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
{%- endmacro %}
