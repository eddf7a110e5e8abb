{# A value was given (raw not null) but could not be parsed (parsed is null). #}
{% macro dq_unparseable(raw, parsed) -%}
    coalesce({{ raw }} is not null and {{ parsed }} is null, false)
{%- endmacro %}
