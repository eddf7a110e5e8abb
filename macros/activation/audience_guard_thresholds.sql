{#
    One row per declared audience with the guard's thresholds at `level` (warn or
    fail): the vars' defaults, or the audience's own `guard:` entries in audiences.yml
    (warn_share, fail_share, churn_warn_share, churn_fail_share, min_previous_size).
#}
{% macro audience_guard_thresholds(level) -%}
    {%- if level not in ['warn', 'fail'] -%}
        {{ exceptions.raise_compiler_error(
            "audience_size_change: level must be warn or fail, got '" ~ level ~ "'") }}
    {%- endif -%}
    {%- set defaults = {
        'net': checked_var('audience_change_' ~ level ~ '_share'),
        'churn': checked_var('audience_churn_' ~ level ~ '_share'),
        'min': checked_var('audience_change_min_previous_size'),
    } -%}
    {%- set rows = [] -%}
    {%- for audience in audience_definitions() -%}
        {%- set guard = audience.get('guard') or {} -%}
        {%- do rows.append(
            "select '" ~ audience.name ~ "' as audience_name, "
            ~ guard.get(level ~ '_share', defaults.net) ~ " as net_share, "
            ~ guard.get('churn_' ~ level ~ '_share', defaults.churn) ~ " as churn_share, "
            ~ guard.get('min_previous_size', defaults.min) ~ " as min_previous_size") -%}
    {%- endfor -%}
    {%- if rows -%}
        {{ rows | join('\n        union all\n        ') }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as audience_name,
            1.0 as net_share,
            1.0 as churn_share,
            0 as min_previous_size
        where 1 = 0
    {%- endif -%}
{%- endmacro %}
