{#
    Generic test (on audience_membership): the audience guard. Compares each audience
    with its membership at the last build, read from the changes table's earlier
    builds, and flags an audience that
    - moved in size by more than `net_share` of its previous size, or
    - changed members by more than `churn_share` of its previous size (added plus
      removed: swapping half an audience for other people leaves its size alone but
      makes every sync ship that churn), or
    - had members and would have none (whatever its size).
    The share checks skip audiences smaller than `min_previous_size` (one person is a
    100% change of two). Configured twice in the YAML, `level` warn and fail, with
    thresholds from vars (audience_change_*, audience_churn_*) that an audience may
    override in audiences.yml under `guard:`. The failing level stops the build before
    the changes table records anything and before `make build` publishes, so a broken
    upstream never wipes or churns a destination. A share of 1 or more lets an audience
    be emptied; a complete swap of its members is a churn of 2. The failure names the
    shares that would let the change through, for one build's --vars.
    `aliases_model` (int_customer_id_aliases) maps the last build's members to the ids
    that name them now: a member merged into another member is neither added nor removed
    (audience_membership_changes logs it as one merged_into row).
#}
{% test audience_size_change(model, changes_model, aliases_model, level, stop_build=false) %}
    {#- changes_model is the table's name, not a ref(): a ref would make dbt run this test
        after the changes table is built, too late to stop it recording the removals -#}
    {%- set changes = adapter.get_relation(
        database=model.database, schema=model.schema, identifier=changes_model) if execute else none -%}
    {%- set check_sql -%}
    with

    thresholds as (
        {{ audience_guard_thresholds(level) }}
    ),

    current_members as (
        select distinct
            audience_name,
            customer_id
        from {{ model }}
    ),

    {% if changes is not none %}
        -- the last build's state, even if this build already added its own rows, in the
        -- ids of today: a member whose id was merged into another counts as that customer,
        -- so a merge is neither an addition nor a removal (the same person stays)
        logged_members as (
            {{ audience_logged_members(changes, before_invocation=invocation_id) }}
        ),

        previous_members as (
            select distinct
                logged_members.audience_name,
                coalesce(aliases.current_customer_id, logged_members.customer_id) as customer_id
            from logged_members
            left join {{ aliases_model }} as aliases
                on logged_members.customer_id = aliases.customer_id
        ),
    {% else %}
        previous_members as (
            select
                audience_name,
                customer_id
            from current_members
            where 1 = 0
        ),
    {% endif %}

    compared as (
        select
            coalesce(current_members.audience_name, previous_members.audience_name) as audience_name,
            case when previous_members.customer_id is not null then 1 else 0 end as was_member,
            case when current_members.customer_id is not null then 1 else 0 end as is_member
        from current_members
        full outer join previous_members
            on
                current_members.audience_name = previous_members.audience_name
                and current_members.customer_id = previous_members.customer_id
    ),

    moves as (
        select
            audience_name,
            sum(was_member) as previous_size,
            sum(is_member) as current_size,
            sum(case when is_member = 1 and was_member = 0 then 1 else 0 end) as added,
            sum(case when is_member = 0 and was_member = 1 then 1 else 0 end) as removed
        from compared
        group by audience_name
    ),

    judged as (
        select
            moves.*,
            thresholds.net_share,
            thresholds.churn_share,
            moves.previous_size > 0 and moves.current_size = 0 and thresholds.net_share < 1
            as is_emptied,
            moves.previous_size >= thresholds.min_previous_size
            and abs(moves.current_size - moves.previous_size) > thresholds.net_share * moves.previous_size
            as is_net_move,
            moves.previous_size >= thresholds.min_previous_size
            and moves.added + moves.removed > thresholds.churn_share * moves.previous_size
            as is_churn
        from moves
        inner join thresholds
            on moves.audience_name = thresholds.audience_name
    )

    select
        audience_name,
        previous_size,
        current_size,
        added,
        removed,
        'audience ' || audience_name || ' would go from '
        || cast(previous_size as {{ dbt.type_string() }}) || ' to '
        || cast(current_size as {{ dbt.type_string() }}) || ' members ('
        || cast(added as {{ dbt.type_string() }}) || ' added, '
        || cast(removed as {{ dbt.type_string() }}) || ' removed): '
        || case
            when is_emptied then 'it would be emptied'
            when is_net_move then 'its size would move by more than ' || cast(net_share as {{ dbt.type_string() }})
            else 'its members would churn by more than ' || cast(churn_share as {{ dbt.type_string() }})
        end || ' of its size'
        as failure_reason
    from judged
    where is_emptied or is_net_move or is_churn
    {%- endset -%}
    {#- the failing variant stops the build with the reason, not just a count of rows -#}
    {%- if stop_build and execute -%}
        {%- set moved = run_query(check_sql) -%}
        {%- if moved.rows | length > 0 -%}
            {#- the shares that let exactly these moves through (a full swap of members is a
                churn of 2), at least 1 so that an emptied audience passes too -#}
            {%- set needed = namespace(net=1, churn=1) -%}
            {%- for row in moved.rows if row['previous_size'] > 0 -%}
                {%- set needed.net = [needed.net, ((row['current_size'] - row['previous_size']) | abs) / row['previous_size']] | max -%}
                {%- set needed.churn = [needed.churn, (row['added'] + row['removed']) / row['previous_size']] | max -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                "Audience guard stopped the build: " ~ (moved.columns['failure_reason'].values() | join('; '))
                ~ ". If this change is intended, rebuild with --vars "
                ~ "'{audience_change_fail_share: " ~ ((needed.net * 100) | round(0, 'ceil') / 100)
                ~ ", audience_churn_fail_share: " ~ ((needed.churn * 100) | round(0, 'ceil') / 100)
                ~ "}', or set a `guard:` for the audience in models/marts/activation/audiences.yml.") }}
        {%- endif -%}
    {%- endif -%}
    {{ check_sql }}
{% endtest %}
