{# Amounts and counts: unparseable is NULL, never an error. #}
{% macro parse_decimal(column) -%}
    {{ try_cast(clean_code(column), 'decimal(18, 2)') }}
{%- endmacro %}
