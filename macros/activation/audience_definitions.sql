{# The declared audiences, checked: a bad declaration fails naming the audience and file. #}
{% macro audience_definitions() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.audience_membership') -%}
    {%- set declared = (node.config.meta.get('audiences') if node else none) or [] -%}
    {%- set where = 'models/marts/activation/audiences.yml' -%}
    {%- set seen = [] -%}
    {%- for audience in declared -%}
        {%- for key in ['name', 'description', 'channel', 'owner', 'predicate'] -%}
            {%- if not audience.get(key) -%}
                {{ exceptions.raise_compiler_error(
                    "Audience #" ~ loop.index ~ " (" ~ audience.get('name', 'unnamed') ~ ") in " ~ where
                    ~ " has no '" ~ key ~ "'") }}
            {%- endif -%}
        {%- endfor -%}
        {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', audience.name) -%}
            {{ exceptions.raise_compiler_error(
                "Audience name '" ~ audience.name ~ "' in " ~ where
                ~ " must be lower-case letters, digits and underscores (it names a view)") }}
        {%- endif -%}
        {%- if audience.channel not in ['email', 'sms', 'phone', 'ads'] -%}
            {{ exceptions.raise_compiler_error(
                "Audience '" ~ audience.name ~ "' in " ~ where ~ ": channel '" ~ audience.channel
                ~ "' is not one of email, sms, phone, ads") }}
        {%- endif -%}
        {%- set guard = audience.get('guard') or {} -%}
        {%- if guard is not mapping -%}
            {{ exceptions.raise_compiler_error(
                "Audience '" ~ audience.name ~ "' in " ~ where ~ ": guard must be a mapping") }}
        {%- endif -%}
        {%- for key, value in guard.items() -%}
            {%- if key not in ['warn_share', 'fail_share', 'churn_warn_share', 'churn_fail_share',
                    'min_previous_size'] -%}
                {{ exceptions.raise_compiler_error(
                    "Audience '" ~ audience.name ~ "' in " ~ where ~ ": unknown guard key '" ~ key
                    ~ "' (warn_share, fail_share, churn_warn_share, churn_fail_share, min_previous_size)") }}
            {%- endif -%}
            {%- if value is boolean or value is not number or value < 0 -%}
                {{ exceptions.raise_compiler_error(
                    "Audience '" ~ audience.name ~ "' in " ~ where ~ ": guard " ~ key ~ " must be a number"
                    ~ " of 0 or more, got '" ~ value ~ "'") }}
            {%- endif -%}
        {%- endfor -%}
        {%- if audience.name in seen -%}
            {{ exceptions.raise_compiler_error(
                "Audience '" ~ audience.name ~ "' is declared twice in " ~ where) }}
        {%- endif -%}
        {%- do seen.append(audience.name) -%}
    {%- endfor -%}
    {{ return(declared) }}
{%- endmacro %}
