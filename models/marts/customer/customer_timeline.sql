{#
    Everything known about a customer in time order: orders and in-store sales,
    support tickets opened and resolved, web sessions, marketing email events and
    consent changes. One row per event and customer (a consent revocation on a
    shared identifier applies to every customer it names). Only activity
    attributed to a customer appears.

    A view, not a table: it holds every event of every customer, and copying them
    into the warehouse on each build cost more than its tests cost reading the view;
    one customer's timeline, the usual question, reads about as fast from the view,
    whose customer filter reaches each source (docs/conventions.md). The published
    file materialises it (c360.publish).
#}
{{ config(materialized='view') }}
with

orders as (
    select * from {{ ref('int_orders_attributed') }}
    where customer_id is not null
),

tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
    where customer_id is not null
),

web_sessions as (
    select * from {{ ref('int_web_sessions_stitched') }}
    where customer_id is not null
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null
),

consent_events as (
    select * from {{ ref('int_consent_events_attributed') }}
    where customer_id is not null
),

events as (
    select
        customer_id,
        order_key as source_event_id,
        case when channel = 'online' then 'shop' else 'pos' end as source_system,
        'commerce' as event_category,
        case when channel = 'online' then 'online_order' else 'in_store_purchase' end as event_type,
        order_status as event_detail,
        net_revenue as amount,
        ordered_at as event_at
    from orders
    union all
    select
        customer_id,
        ticket_id as source_event_id,
        'support' as source_system,
        'service' as event_category,
        'ticket_opened' as event_type,
        category as event_detail,
        cast(null as {{ dbt.type_numeric() }}) as amount,
        created_at as event_at
    from tickets
    union all
    select
        customer_id,
        ticket_id as source_event_id,
        'support' as source_system,
        'service' as event_category,
        'ticket_resolved' as event_type,
        category as event_detail,
        cast(null as {{ dbt.type_numeric() }}) as amount,
        resolved_at as event_at
    from tickets
    where resolved_at is not null
    union all
    select
        customer_id,
        web_session_id as source_event_id,
        'web' as source_system,
        'web' as event_category,
        'web_session' as event_type,
        {{ dbt.concat([
            'cast(product_views as ' ~ dbt.type_string() ~ ')', "' product views, '",
            'cast(add_to_carts as ' ~ dbt.type_string() ~ ')', "' added to cart'"]) }} as event_detail,
        cast(null as {{ dbt.type_numeric() }}) as amount,
        started_at as event_at
    from web_sessions
    union all
    select
        customer_id,
        event_id as source_event_id,
        'email' as source_system,
        'email' as event_category,
        {{ dbt.concat(["'email_'", 'event_type']) }} as event_type,
        campaign_id as event_detail,
        cast(null as {{ dbt.type_numeric() }}) as amount,
        occurred_at as event_at
    from email_events
    union all
    select
        customer_id,
        event_id as source_event_id,
        'consent' as source_system,
        'consent' as event_category,
        {{ dbt.concat(["'consent_'", 'status']) }} as event_type,
        {{ dbt.concat(['channel', "' via '", "coalesce(source_system, 'unknown')"]) }} as event_detail,
        cast(null as {{ dbt.type_numeric() }}) as amount,
        recorded_at as event_at
    from consent_events
),

final as (
    select
        -- ids
        {{ dbt.concat(['customer_id', "'|'", 'event_type', "'|'", 'source_event_id']) }} as timeline_event_id,
        customer_id,
        source_event_id,

        -- strings
        source_system,
        event_category,
        event_type,
        event_detail,

        -- numerics
        amount,

        -- timestamps
        event_at
    from events
    where {{ without_erased_customers('customer_id') }}
)

select * from final
