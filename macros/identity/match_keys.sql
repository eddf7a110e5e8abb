{#
    Match keys derived from the standardised person fields, for identity
    resolution only (blocking and Splink comparisons). Portable SQL: dbt's
    cross-database macros and the project's regexp primitives.
#}

{# House number: the first word of a street key when it starts with a digit ('12a main st' -> '12a'). #}
{% macro street_number(street_key) -%}
    {%- set first_word = dbt.split_part(street_key, "' '", 1) -%}
    case
        when {{ regexp_full_match(first_word, '[0-9]+[a-z]?') }} then {{ first_word }}
    end
{%- endmacro %}

{#
    Street name: the street key without its house number ('12 main st' -> 'main st'),
    so a typo in the street and a typo in the number are told apart.
#}
{% macro street_name_key(street_key) -%}
    {%- set first_word = dbt.split_part(street_key, "' '", 1) -%}
    case
        when {{ regexp_full_match(first_word, '[0-9]+[a-z]?') }}
            then nullif(trim(substr({{ street_key }}, {{ dbt.length(first_word) }} + 1)), '')
        else {{ street_key }}
    end
{%- endmacro %}

{#
    Postal code for matching: leading zeros dropped, because spreadsheets drop them
    ('02134' -> '2134'). Two codes that differ only there are one code; no two real
    codes of one country differ only by leading zeros.
#}
{% macro postal_code_match_key(postal_code) -%}
    nullif({{ regexp_replace_all(postal_code, '^0+', '') }}, '')
{%- endmacro %}
