{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    post_hook="update {{ this }} set email = null, phone_e164 = null
        where customer_id in (select customer_id from {{ ref('int_erased_customers') }})"
) }}
-- depends_on: {{ ref('int_erased_customers') }}
{#
    What changed in audience_membership since the last build, kept across builds
    (incremental): a row per audience member added or removed, stamped with the
    build that saw it. A sync sends only the rows after its last sync. A removal
    carries the identifiers the member was added with, so a destination can
    delete them. The first build adds every member. Once a customer has an erasure
    request, the post-hook blanks the raw email and phone in all their rows (the
    hashes stay, so a destination can still delete them by hash).
#}
with

current_members as (
    select * from {{ ref('audience_membership') }}
),

{% if is_incremental() %}
    {#- a log written before a column existed (the hash variants) reads it as NULL;
        on_schema_change then adds it to the table -#}
    {%- set logged = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    history as (
        select
            *,
            {%- for column in ['email_sha256_google', 'phone_sha256_digits'] if column not in logged %}
                cast(null as {{ dbt.type_string() }}) as {{ column }},
            {%- endfor %}
            row_number() over (
                partition by audience_name, customer_id order by changed_at desc, change_type asc
            ) as recency_rank
        from {{ this }}
    ),

    previous_members as (
        select *
        from history
        where recency_rank = 1 and change_type = 'added'
    ),
{% else %}
    previous_members as (
        select
            audience_name,
            customer_id,
            email,
            phone_e164,
            email_sha256,
            email_sha256_google,
            phone_sha256,
            phone_sha256_digits
        from current_members
        where false
    ),
{% endif %}

added as (
    select
        current_members.audience_name,
        current_members.customer_id,
        current_members.email,
        current_members.phone_e164,
        current_members.email_sha256,
        current_members.email_sha256_google,
        current_members.phone_sha256,
        current_members.phone_sha256_digits,
        'added' as change_type
    from current_members
    left join previous_members
        on
            current_members.audience_name = previous_members.audience_name
            and current_members.customer_id = previous_members.customer_id
    where previous_members.customer_id is null
),

removed as (
    select
        previous_members.audience_name,
        previous_members.customer_id,
        previous_members.email,
        previous_members.phone_e164,
        previous_members.email_sha256,
        previous_members.email_sha256_google,
        previous_members.phone_sha256,
        previous_members.phone_sha256_digits,
        'removed' as change_type
    from previous_members
    left join current_members
        on
            previous_members.audience_name = current_members.audience_name
            and previous_members.customer_id = current_members.customer_id
    where current_members.customer_id is null
),

changes as (
    select * from added
    union all
    select * from removed
),

final as (
    select
        -- ids
        {{ dbt.concat(['audience_name', "'|'", 'customer_id', "'|'", "'" ~ invocation_id ~ "'"]) }}
            as audience_change_id,
        customer_id,
        '{{ invocation_id }}' as dbt_invocation_id,

        -- strings
        audience_name,
        change_type,
        email,
        phone_e164,
        email_sha256,
        email_sha256_google,
        phone_sha256,
        phone_sha256_digits,

        -- timestamps
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as changed_at
    from changes
)

select * from final
