{#
    Every person-bearing record of the source contract in one shape: the input
    of identity resolution. Retired CRM contacts are left out (they feed no
    profile). A guest checkout is a person record of its own (source_system
    shop_guest, keyed by order_id) carrying only an email and a postal code.
    An email or phone that nameless records carry at many postal codes is a
    placeholder (is_nameless_placeholder) and is nulled on them, the email's
    numbered handle (email_handle) with it. The match keys are computed here,
    once for every source.
#}
with

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where not is_deleted
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
),

guest_orders as (
    select * from {{ ref('stg_shop__orders') }}
    where is_guest_order
),

loyalty_members as (
    select * from {{ ref('stg_loyalty__members') }}
),

support_tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

unioned as (
    {{ person_record_select('crm', 'crm_contacts', 'contact_id', street_key='street_key') }}
    union all
    {{ person_record_select('shop', 'shop_customers', 'customer_id', street_key='street_key') }}
    union all
    {{ person_record_select('loyalty', 'loyalty_members', 'member_id', street_key=none,
        street_address=none, city=none, country=none, created_at='enrolled_at') }}
    union all
    {{ person_record_select('support', 'support_tickets', 'ticket_id', birth_date=none,
        street_key=none, street_address=none, city=none, postal_code=none, country=none,
        created_at='created_at', updated_at='resolved_at') }}
    union all
    select
        'shop_guest' as source_system,
        order_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as {{ dbt.type_string() }}) as first_name_key,
        cast(null as {{ dbt.type_string() }}) as first_name_canonical,
        cast(null as {{ dbt.type_string() }}) as last_name_key,
        guest_email as email,
        guest_email_key as email_key,
        cast(null as {{ dbt.type_string() }}) as phone_e164,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as street_key,
        cast(null as {{ dbt.type_string() }}) as street_address,
        cast(null as {{ dbt.type_string() }}) as city,
        shipping_postal_code as postal_code,
        cast(null as {{ dbt.type_string() }}) as country,
        ordered_at as record_created_at,
        updated_at as record_updated_at
    from guest_orders
),

keyed as (
    select
        *,
        {{ street_number('street_key') }} as street_number,
        {{ street_name_key('street_key') }} as street_name_key,
        {{ postal_code_match_key('postal_code') }} as postal_code_key,
        {{ email_handle('email_key') }} as email_handle
    from unioned
),

-- staging's junk rule counts names, so it cannot see a placeholder on guest checkouts
placeholders_flagged as (
    select
        *,
        {{ is_nameless_placeholder('email_key') }} as is_email_placeholder,
        {{ is_nameless_placeholder('phone_e164') }} as is_phone_placeholder
    from keyed
),

final as (
    select
        -- ids
        {{ dbt.concat(['source_system', "':'", 'source_record_id']) }} as person_record_id,
        source_system,
        source_record_id,

        -- strings
        first_name,
        last_name,
        first_name_key,
        first_name_canonical,
        last_name_key,
        email,
        case when not is_email_placeholder then email_key end as email_key,
        case when not is_email_placeholder then email_handle end as email_handle,
        case when not is_phone_placeholder then phone_e164 end as phone_e164,
        street_key,
        street_number,
        street_name_key,
        street_address,
        city,
        postal_code,
        postal_code_key,
        country,

        -- dates
        birth_date,

        -- timestamps
        record_created_at,
        record_updated_at
    from placeholders_flagged
)

select * from final
