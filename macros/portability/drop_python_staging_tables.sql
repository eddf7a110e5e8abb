{#
    SQL for a post-hook of an incremental Python model: drops the staging tables its
    incremental runs leave behind. dbt-duckdb 1.11 writes a Python model's new rows to
    `<identifier>__dbt_tmp<timestamp>` with a plain `create table` in the connection's
    default schema, believes it temporary and never drops it: every build would leave one
    more table in `main` (and publish it). Other adapters clean up their own: nothing.
#}
{% macro drop_python_staging_tables(relation) -%}
    {{ return(adapter.dispatch('drop_python_staging_tables', 'customer_360')(relation)) }}
{%- endmacro %}

{% macro default__drop_python_staging_tables(relation) -%}
    select 1
{%- endmacro %}

{% macro duckdb__drop_python_staging_tables(relation) -%}
    {%- set leftovers = [] -%}
    {%- if execute -%}
        {%- set found = run_query(
            "select table_schema, table_name from information_schema.tables"
            ~ " where table_catalog = current_database()"
            ~ " and starts_with(table_name, '" ~ relation.identifier ~ "__dbt_tmp')"
        ) -%}
        {%- for row in found.rows -%}
            {%- do leftovers.append(
                'drop table if exists "' ~ row[0] ~ '"."' ~ row[1] ~ '"'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ leftovers | join(';\n') if leftovers else 'select 1' }}
{%- endmacro %}
