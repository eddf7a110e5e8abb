{#
    One row per dq_<column>_<issue> flag of each relation: the rows it was
    checked on and how many had the issue. `tables` maps the raw table name to
    the staging relation built from it. Flags are found by name at run time.
#}
{% macro count_dq_flags(tables) -%}
    {%- set parts = [] -%}
    {%- for source_table, relation in tables -%}
        {%- if execute -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- set match = modules.re.fullmatch('dq_(.+)_(unparseable|junk)', column.name) -%}
                {%- if match -%}
                    {%- set part -%}
    select
        '{{ source_table }}' as source_table,
        '{{ match.group(1) }}' as column_name,
        '{{ match.group(2) }}' as issue,
        cast(count(*) as {{ dbt.type_bigint() }}) as rows_in_table,
        cast(sum(case when {{ column.name }} then 1 else 0 end) as {{ dbt.type_bigint() }}) as affected_rows
    from {{ relation }}
                    {%- endset -%}
                    {%- do parts.append(part) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if parts -%}
        {{ parts | join('\n    union all\n') }}
    {%- else -%}
    {#- parse time, before the staging tables exist: an empty relation of the right shape -#}
    select
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as issue,
        cast(0 as {{ dbt.type_bigint() }}) as rows_in_table,
        cast(0 as {{ dbt.type_bigint() }}) as affected_rows
    where 1 = 0
    {%- endif -%}
{%- endmacro %}
