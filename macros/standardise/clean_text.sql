{#
    The base of every staging column: text, trimmed, inner whitespace collapsed,
    and the empty string read as missing (the source contract's rule).
#}
{% macro clean_text(column) -%}
    nullif(trim({{ regexp_replace_all('cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')', '\\s+', ' ') }}), '')
{%- endmacro %}
