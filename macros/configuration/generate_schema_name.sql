{#
    Custom schemas are used as-is (staging, intermediate, reference) instead of
    dbt's default <target_schema>_<custom>, so a BI tool sees stable names.
    Marts have no custom schema and land in the target schema (main).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
