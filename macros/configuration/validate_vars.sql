{#
    on-run-start: every var checked against var_rules() before the build touches
    anything, so a bad value fails at once instead of midway through the graph.
#}
{% macro validate_vars() -%}
    {%- for name in var_rules() -%}
        {%- do checked_var(name) -%}
    {%- endfor -%}
    select 1
{%- endmacro %}
