{#
    on-run-start: record that this dbt invocation has started changing the warehouse.
    `make publish` (c360.publish) reads ops.build_runs and refuses a warehouse whose
    last invocation is still marked running (a killed build), failed, or did not test
    what it built. Kept in the warehouse itself, so the record travels with the file.
#}
{% macro record_build_start() -%}
    create schema if not exists ops;
    create table if not exists ops.build_runs (
        invocation_id {{ dbt.type_string() }},
        command {{ dbt.type_string() }},
        started_at {{ dbt.type_timestamp() }},
        finished_at {{ dbt.type_timestamp() }},
        status {{ dbt.type_string() }},
        nodes_passed {{ dbt.type_bigint() }},
        nodes_not_passed {{ dbt.type_bigint() }},
        not_passed {{ dbt.type_string() }}
    );
    insert into ops.build_runs (invocation_id, command, started_at, status)
    values (
        '{{ invocation_id }}',
        '{{ flags.WHICH }}',
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}),
        'running'
    );
{%- endmacro %}
