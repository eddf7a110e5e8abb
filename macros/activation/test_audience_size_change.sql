{#
    Generic test (on audience_membership): audiences whose size moved by more than
    `max_share` of their size at the last build, read from the changes table's
    earlier builds. Configured twice in the YAML: as a warning, and as an error at a
    larger share, so a broken upstream (an empty customer_360, a consent feed that
    lost its grants) fails the build before the changes table records mass removals
    and before `make build` publishes: a sync never wipes a destination. Audiences
    smaller than `min_previous_size` at the last build are left alone (one person is
    a 100% change of two). Raise the share for one build when a big change is meant:
    --vars '{audience_change_fail_share: 1}'.
#}
{% test audience_size_change(model, changes_model, max_share, min_previous_size, stop_build=false) %}
    {#- changes_model is the table's name, not a ref(): a ref would make dbt run this test
        after the changes table is built, too late to stop it recording the removals -#}
    {%- set changes = adapter.get_relation(
        database=model.database, schema=model.schema, identifier=changes_model) if execute else none -%}
    {%- set check_sql -%}
    with

    current_sizes as (
        select
            audience_name,
            count(*) as current_size
        from {{ model }}
        group by audience_name
    ),

    {% if changes is not none %}
        history as (
            select
                audience_name,
                customer_id,
                change_type,
                row_number() over (
                    partition by audience_name, customer_id order by changed_at desc, change_type asc
                ) as recency_rank
            from {{ changes }}
            -- the last build's state, even if this build already added its own rows
            where dbt_invocation_id != '{{ invocation_id }}'
        ),

        previous_sizes as (
            select
                audience_name,
                count(*) as previous_size
            from history
            where recency_rank = 1 and change_type = 'added'
            group by audience_name
        )
    {% else %}
        previous_sizes as (
            select
                audience_name,
                0 as previous_size
            from current_sizes
        )
    {% endif %}

    select
        previous_sizes.audience_name,
        previous_sizes.previous_size,
        coalesce(current_sizes.current_size, 0) as current_size,
        {{ max_share }} as max_share,
        'audience ' || previous_sizes.audience_name || ' would go from '
        || cast(previous_sizes.previous_size as {{ dbt.type_string() }}) || ' to '
        || cast(coalesce(current_sizes.current_size, 0) as {{ dbt.type_string() }})
        || ' members, more than the allowed change of ' || cast({{ max_share }} as {{ dbt.type_string() }})
        as failure_reason
    from previous_sizes
    left join current_sizes
        on previous_sizes.audience_name = current_sizes.audience_name
    where
        previous_sizes.previous_size >= {{ min_previous_size }}
        and abs(coalesce(current_sizes.current_size, 0) - previous_sizes.previous_size)
        > {{ max_share }} * previous_sizes.previous_size
    {%- endset -%}
    {#- the failing variant stops the build with the reason, not just a count of rows -#}
    {%- if stop_build and execute -%}
        {%- set moved = run_query(check_sql) -%}
        {%- if moved.rows | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                "Audience guard stopped the build: " ~ (moved.columns['failure_reason'].values() | join('; '))
                ~ ". If this change is intended, rebuild with --vars '{audience_change_fail_share: 1}'.") }}
        {%- endif -%}
    {%- endif -%}
    {{ check_sql }}
{% endtest %}

{#
    Generic test (on audience_membership): no row lacks consent on its channel or an
    identifier for it, carries a suppression for it, or belongs to a customer with an
    erasure request. Independent of the model's SQL: it reads customer_360, the
    suppressions and the erasure requests afresh. It covers every audience,
    since each audience_<name> view is a filter of this table.
#}
{% test audience_rows_are_contactable(model) %}
    select
        members.audience_name,
        members.customer_id,
        members.channel
    from {{ model }} as members
    left join {{ ref('customer_360') }} as customer
        on members.customer_id = customer.customer_id
    left join {{ ref('int_customer_suppressions') }} as suppressions
        on
            members.customer_id = suppressions.customer_id
            and suppressions.channel in ('all', members.channel)
    where
        customer.customer_id is null
        or suppressions.customer_id is not null
        or {{ is_erased_customer('members.customer_id') }}
        or not (
            (members.channel = 'email' and {{ audience_contactable('email') }})
            or (members.channel = 'sms' and {{ audience_contactable('sms') }})
            or (members.channel = 'phone' and {{ audience_contactable('phone') }})
            or (members.channel = 'ads' and {{ audience_contactable('ads') }})
        )
{% endtest %}
