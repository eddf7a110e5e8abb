{# The identifier if it is not junk, else NULL (the row itself is kept). #}
{% macro unless_junk(value, is_junk) -%}
    case when not {{ is_junk }} then {{ value }} end
{%- endmacro %}
