{#
    Match key for identity resolution only (blocking and Splink comparisons).
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
