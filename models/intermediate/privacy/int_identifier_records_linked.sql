{#
    Records that name a customer through an identifier of theirs: retired CRM
    contacts (they feed no profile but are still held) by email or phone, POS sales
    by loyalty card or e-receipt email, marketing email events by email, consent
    events by email, phone or shop account, privacy requests by email or phone. One
    row per (customer, record, identifier); a record tied only through an identifier
    other customers carry too (a household email) is a shared link.

    One join shape for every (source, identifier) pair, rendered by the loop below
    so the branches cannot drift apart: a new identifier column of a source is a new
    line in this list.
    (source CTE, source_system, source_table, record_kind, record id column,
    identifier column, link key type)
#}
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

-- retired contacts are not person records (int_person_records_unioned leaves them out)
retired_crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where is_deleted
),

pos_transactions as (
    select * from {{ ref('stg_pos__transactions') }}
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

link_keys as (
    select * from {{ ref('int_customer_link_keys_flagged') }}
),

final as (
    {% for source, source_system, source_table, record_kind, record_id, identifier, link_key_type
        in identifier_links %}
        select
            -- ids
            link_keys.customer_id,
            {{ source }}.{{ record_id }} as source_record_id,

            -- strings
            '{{ source_system }}' as source_system,
            '{{ source_table }}' as source_table,
            '{{ record_kind }}' as record_kind,
            link_keys.link_key_type as linked_by,

            -- booleans
            link_keys.customer_count > 1 as is_shared_link,
            link_keys.is_erased_customer
        from {{ source }}
        inner join link_keys
            on
                link_keys.link_key_type = '{{ link_key_type }}'
                and {{ source }}.{{ identifier }} = link_keys.link_key_value
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
