{#
    Match key for identity resolution only (blocking and Splink comparisons).
    Portable SQL: dbt's cross-database macros and the project's regexp primitives.
    House number: the first word of a street key when it starts with a digit
    ('12a main st' -> '12a').
#}
{% macro street_number(street_key) -%}
    {%- set first_word = dbt.split_part(street_key, "' '", 1) -%}
    case
        when {{ regexp_full_match(first_word, '[0-9]+[a-z]?') }} then {{ first_word }}
    end
{%- endmacro %}
