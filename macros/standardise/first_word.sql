{# First word of a free-text "first last" name ('Mary Ann Smith' -> 'Mary'). #}
{% macro first_word(column) -%}
    {{ dbt.split_part(clean_text(column), "' '", 1) }}
{%- endmacro %}
