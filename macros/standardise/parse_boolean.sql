{# true/false, yes/no, 1/0 (also t/f, y/n), any case; anything else is NULL. #}
{% macro parse_boolean(column) -%}
    case
        when lower({{ clean_code(column) }}) in ('true', 't', 'yes', 'y', '1') then true
        when lower({{ clean_code(column) }}) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
