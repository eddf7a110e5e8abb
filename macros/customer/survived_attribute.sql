{#
    Three columns of the golden record for one attribute of
    int_customer_attributes_survived (long, one row per customer and attribute):
    the surviving value cast back to its type, and the source system and record
    it came from. Used inside a select grouped by customer_id.
#}
{% macro survived_attribute(attribute, column_name=none, data_type=none) -%}
    {%- set column_name = column_name or attribute -%}
    {%- set value = "max(case when attribute_name = '" ~ attribute ~ "' then attribute_value end)" -%}
    {{ 'cast(' ~ value ~ ' as ' ~ data_type ~ ')' if data_type else value }} as {{ column_name }},
        max(case when attribute_name = '{{ attribute }}' then source_system end) as {{ column_name }}_source_system,
        max(case when attribute_name = '{{ attribute }}' then source_record_id end) as {{ column_name }}_source_record_id
{%- endmacro %}
