{#
    Data-quality flags. Staging models name them dq_<column>_unparseable and
    dq_<column>_junk; model source_data_quality finds them by that name and
    counts them per table and column, so a new flag needs no other change.
#}

{# A value was given (raw not null) but could not be parsed (parsed is null). #}
{% macro dq_unparseable(raw, parsed) -%}
    coalesce({{ raw }} is not null and {{ parsed }} is null, false)
{%- endmacro %}

{# The identifier if it is not junk, else NULL (the row itself is kept). #}
{% macro unless_junk(value, is_junk) -%}
    case when not {{ is_junk }} then {{ value }} end
{%- endmacro %}
