{# `YYYY-MM-DD HH:MM:SS` (UTC by contract) to a timestamp; unparseable is NULL. #}
{% macro parse_timestamp(column) -%}
    {{ try_cast(clean_code(column), api.Column.translate_type('timestamp')) }}
{%- endmacro %}
