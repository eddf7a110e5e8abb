{# Display name: trimmed, whitespace collapsed, Capitalised Words. Accents kept. #}
{% macro clean_name(column) -%}
    {{ proper_case(clean_text(column)) }}
{%- endmacro %}
