{# Matching key for a name: lower case, accents folded, letters only ("O'Neil" -> oneil). #}
{% macro name_key(column) -%}
    nullif({{ regexp_replace_all(fold_accents('lower(' ~ clean_text(column) ~ ')'), '[^a-z]', '') }}, '')
{%- endmacro %}
