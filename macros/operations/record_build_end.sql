{#
    on-run-end: close this invocation's row in ops.build_runs. It passed only if no
    node errored, failed or was skipped (warnings pass); the names of those that did
    not pass are kept, so a refused publish can say why. Runs last among the hooks:
    if an earlier hook fails, the row stays 'running' and publishing refuses it too.
#}
{% macro record_build_end(results) -%}
    {%- set not_passed = [] -%}
    {%- for result in results -%}
        {%- if result.status | string | lower not in ['success', 'pass', 'warn', 'no-op'] -%}
            {%- do not_passed.append(result.node.name ~ ' (' ~ result.status ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    update ops.build_runs
    set
        finished_at = cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}),
        status = '{{ "failed" if not_passed else "passed" }}',
        nodes_passed = {{ results | length - not_passed | length }},
        nodes_not_passed = {{ not_passed | length }},
        not_passed = '{{ not_passed[:20] | join(", ") | replace("'", "''") }}'
    where invocation_id = '{{ invocation_id }}'
{%- endmacro %}
