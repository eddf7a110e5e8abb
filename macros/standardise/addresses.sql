{#
    Street words: lower case, accents folded, punctuation dropped, single spaces
    ('12 Main Street.' -> '12 main street'); NULL when nothing is left.
    Computed once in `parsed`, so the suffix lookup below reads a plain column.
#}
{% macro street_words(column) -%}
    nullif(trim({{ regexp_replace_all(regexp_replace_all(fold_accents('lower(' ~ clean_text(column) ~ ')'), '[^a-z0-9 ]', ' '), ' +', ' ') }}), '')
{%- endmacro %}

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

{# Postal code key: upper case, letters and digits only; US ZIP+4 cut to the ZIP. #}
{% macro postal_code_key(column) -%}
    {%- set compact = 'upper(' ~ regexp_replace_all(clean_text(column), '[^A-Za-z0-9]', '') ~ ')' -%}
    case
        when {{ regexp_full_match(compact, '[0-9]{9}') }} then left({{ compact }}, 5)
        else nullif({{ compact }}, '')
    end
{%- endmacro %}
