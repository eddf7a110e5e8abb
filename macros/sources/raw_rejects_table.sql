{# The temporary table where a staging model's CSV read records its malformed lines. #}
{% macro raw_rejects_table(model_name) -%}
    {{ return('c360_rejects_' ~ model_name) }}
{%- endmacro %}
