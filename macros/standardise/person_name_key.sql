{#
    The name of a person as one string key (canonical first name | last name):
    what the junk-identifier frequency rule counts distinct values of.
#}
{% macro person_name_key(first_name_canonical, last_name_key) -%}
    coalesce({{ first_name_canonical }}, '') || '|' || coalesce({{ last_name_key }}, '')
{%- endmacro %}
