{#
    The members an audience changes log (audience_membership_changes) records, as a
    select: one row per audience and customer whose latest row makes them a member. A row
    `added` makes its customer_id a member; `removed` and `merged_into` end its
    customer_id's membership, and a `merged_into` row makes its merged_into_customer_id a
    member, with the identifiers on the row (the surviving customer's). `columns`: the
    identifier columns to carry; a log written before one of them (or before
    merged_into_customer_id) existed reads it as NULL. `before_invocation`: leave that dbt
    run's rows out (the guard reads the state before this build).
#}
{% macro audience_logged_members(changes, columns=[], before_invocation=none) -%}
    {%- set logged = adapter.get_columns_in_relation(changes) | map(attribute='name') | map('lower') | list -%}
    {%- set carried = [] -%}
    {%- for column in columns -%}
        {%- if column in logged -%}
            {%- do carried.append(column) -%}
        {%- else -%}
            {%- do carried.append('cast(null as ' ~ dbt.type_string() ~ ') as ' ~ column) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set filter = "dbt_invocation_id != '" ~ before_invocation ~ "'" if before_invocation else 'true' -%}
    select
        audience_name,
        customer_id
        {%- for column in columns %},
            {{ column }}
        {%- endfor %}
    from (
        select
            *,
            row_number() over (
                partition by audience_name, customer_id order by changed_at desc, change_type asc
            ) as recency_rank
        from (
            select
                audience_name,
                customer_id,
                change_type,
                changed_at
                {%- for column in carried %},
                    {{ column }}
                {%- endfor %}
            from {{ changes }}
            where {{ filter }}
            {%- if 'merged_into_customer_id' in logged %}
                union all
                select
                    audience_name,
                    merged_into_customer_id as customer_id,
                    'added' as change_type,
                    changed_at
                    {%- for column in carried %},
                        {{ column }}
                    {%- endfor %}
                from {{ changes }}
                where {{ filter }} and change_type = 'merged_into'
            {%- endif %}
        ) as logged_rows
    ) as ranked_rows
    where recency_rank = 1 and change_type = 'added'
{%- endmacro %}
