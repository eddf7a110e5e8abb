{#
    Street matching key from street_words: the street-type word standardised
    through seed `street_suffixes` ('12 main street' and '12 main st' both give
    '12 main st').
#}
{% macro street_key(words) -%}
    {%- set last_word = dbt.split_part(words, "' '", -1) -%}
    nullif(
        coalesce(
            (
                select
                    left({{ words }}, length({{ words }}) - length({{ last_word }}))
                    || street_suffixes.standard_suffix
                from {{ ref('street_suffixes') }} as street_suffixes
                where street_suffixes.suffix_variant = {{ last_word }}
            ),
            {{ words }}
        ),
        ''
    )
{%- endmacro %}
