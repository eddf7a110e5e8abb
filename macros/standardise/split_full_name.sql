{# First word of a free-text "first last" name ('Mary Ann Smith' -> 'Mary'). #}
{% macro first_word(column) -%}
    {{ dbt.split_part(clean_text(column), "' '", 1) }}
{%- endmacro %}

{# Everything after the first word ('Mary Ann Smith' -> 'Ann Smith'), NULL if one word. #}
{% macro after_first_word(column) -%}
    nullif(trim(substr({{ clean_text(column) }}, length({{ first_word(column) }}) + 1)), '')
{%- endmacro %}
