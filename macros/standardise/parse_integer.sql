{#
    Whole numbers only (`2`, `-3`, `2.0`): a cast would round `1.5` to 2 without a
    trace, so a fractional or otherwise unparseable value is NULL (and counted).
#}
{% macro parse_integer(column) -%}
    case
        when {{ regexp_full_match(clean_code(column), '[+-]?[0-9]+([.]0*)?') }}
            then {{ try_cast(clean_code(column), api.Column.translate_type('integer')) }}
    end
{%- endmacro %}
