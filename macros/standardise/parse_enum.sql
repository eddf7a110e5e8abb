{#
    A code from a fixed list (order status, consent channel, ...), lower-cased.
    A value outside the list is NULL and counted as unparseable: a new status in
    a user's export never fails the build, and never passes as a known one.
#}
{% macro parse_enum(column, accepted_values) -%}
    case
        when lower({{ clean_code(column) }}) in ('{{ accepted_values | join("', '") }}')
            then lower({{ clean_code(column) }})
    end
{%- endmacro %}
