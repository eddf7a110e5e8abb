{# Everything after the first word ('Mary Ann Smith' -> 'Ann Smith'), NULL if one word. #}
{% macro after_first_word(column) -%}
    nullif(trim(substr({{ clean_text(column) }}, length({{ first_word(column) }}) + 1)), '')
{%- endmacro %}
