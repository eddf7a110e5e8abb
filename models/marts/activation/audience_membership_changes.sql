{{ config(
    materialized='incremental',
    on_schema_change='append_new_columns',
    post_hook="update {{ this }} set email = null, phone_e164 = null
        where customer_id in (select customer_id from {{ ref('int_erased_customers') }})
            or merged_into_customer_id in (select customer_id from {{ ref('int_erased_customers') }})
            or customer_id in (
                select aliases.customer_id
                from {{ ref('int_customer_id_aliases') }} as aliases
                inner join {{ ref('int_erased_customers') }} as erased
                    on aliases.current_customer_id = erased.customer_id
            )"
) }}
-- depends_on: {{ ref('int_erased_customers') }}
{#
    What changed in audience_membership since the last build, kept across builds
    (incremental): a row per audience member added, removed or merged into another
    member, stamped with the build that saw it. A sync sends only the rows after its
    last sync. A removal carries the identifiers the member was added with, so a
    destination can delete them. When a member's customer id was merged into another
    (retired into it: int_customer_id_aliases) and that customer is a member of the same
    audience now, the log writes one `merged_into` row (customer_id the old id,
    merged_into_customer_id the current one, the identifiers those of the current
    member) instead of removing the old id and adding the new one: the same person stays
    in the audience. The first build adds every member. Once a customer has an erasure
    request, the post-hook blanks the raw email and phone in all their rows, under any
    id they had (the hashes stay, so a destination can still delete them by hash).
#}
{%- set identifiers = [
    'email', 'phone_e164', 'email_sha256', 'email_sha256_google', 'phone_sha256', 'phone_sha256_digits'
] %}
with

current_members as (
    select * from {{ ref('audience_membership') }}
),

aliases as (
    select * from {{ ref('int_customer_id_aliases') }}
),

{% if is_incremental() %}
    logged_members as (
        {{ audience_logged_members(this, identifiers) }}
    ),
{% else %}
    logged_members as (
        select
            audience_name,
            customer_id,
            {{ identifiers | join(', ') }}
        from current_members
        where false
    ),
{% endif %}

-- the members at the last build, each with the id that names its customer now (an id
-- merged into another leads to it; an id left with no records keeps its own)
previous_members as (
    select
        logged_members.*,
        coalesce(aliases.current_customer_id, logged_members.customer_id) as current_customer_id
    from logged_members
    left join aliases
        on logged_members.customer_id = aliases.customer_id
),

added as (
    -- new in the audience, and not the customer an old member's id was merged into
    select
        current_members.audience_name,
        current_members.customer_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_customer_id,
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
            and current_members.customer_id = previous_members.current_customer_id
    where previous_members.customer_id is null
),

merged as (
    -- an old member's id merged into a customer who is a member now: the same person
    select distinct
        previous_members.audience_name,
        previous_members.customer_id,
        current_members.customer_id as merged_into_customer_id,
        current_members.email,
        current_members.phone_e164,
        current_members.email_sha256,
        current_members.email_sha256_google,
        current_members.phone_sha256,
        current_members.phone_sha256_digits,
        'merged_into' as change_type
    from previous_members
    inner join current_members
        on
            previous_members.audience_name = current_members.audience_name
            and previous_members.current_customer_id = current_members.customer_id
    where previous_members.current_customer_id != previous_members.customer_id
),

removed as (
    -- gone from the audience, under its own id or the one it was merged into
    select
        previous_members.audience_name,
        previous_members.customer_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_customer_id,
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
            and previous_members.current_customer_id = current_members.customer_id
    where current_members.customer_id is null
),

changes as (
    select * from added
    union all
    select * from merged
    union all
    select * from removed
),

final as (
    select
        -- ids
        {{ dbt.concat(['audience_name', "'|'", 'customer_id', "'|'", "'" ~ invocation_id ~ "'"]) }}
            as audience_change_id,
        customer_id,
        merged_into_customer_id,
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
