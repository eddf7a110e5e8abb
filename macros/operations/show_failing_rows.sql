{#
    on-run-end: for every data test that failed or warned, print the first rows its
    query returned, so a duplicated key shows the duplicated value (dbt itself only
    says how many rows failed). Rows are re-read only for tests that did not pass,
    so a passing build pays nothing. Values are printed as the test returns them:
    keys for the key tests, never a whole source row.
#}
{% macro show_failing_rows(results, max_rows=5) -%}
    {%- if execute -%}
        {%- for result in results -%}
            {%- set status = result.status | string | lower -%}
            {%- if result.node.resource_type == 'test' and status in ['fail', 'warn']
                    and result.node.compiled_code -%}
                {%- set rows = run_query(
                    'select * from (' ~ result.node.compiled_code ~ ') as failing limit ' ~ max_rows) -%}
                {%- set shown = [] -%}
                {%- for row in rows.rows -%}
                    {%- set cells = [] -%}
                    {%- for name in rows.column_names -%}
                        {%- do cells.append(name ~ '=' ~ row[name]) -%}
                    {%- endfor -%}
                    {%- do shown.append(cells | join(', ')) -%}
                {%- endfor -%}
                {{ log(
                    'Test ' ~ result.node.name ~ ' ' ~ status ~ 'ed on ' ~ result.failures ~ ' row(s); '
                    ~ ('the first ' ~ shown | length ~ ':\n    ' ~ shown | join('\n    ') if shown else 'none left to show'),
                    info=true) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
