{# `YYYY-MM-DD HH:MM:SS` (UTC by contract) to a timestamp; unparseable is NULL. #}
{% macro parse_timestamp(column) -%}
    {{ try_cast(clean_code(column), api.Column.translate_type('timestamp')) }}
{%- endmacro %}

{# Amounts and counts: unparseable is NULL, never an error. #}
{% macro parse_decimal(column) -%}
    {{ try_cast(clean_code(column), 'decimal(18, 2)') }}
{%- endmacro %}

{% macro parse_integer(column) -%}
    {{ try_cast(clean_code(column), api.Column.translate_type('integer')) }}
{%- endmacro %}
