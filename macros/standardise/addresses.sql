{#
    Street matching key: lower case, accents folded, punctuation dropped, and the
    street-type word standardised through seed `street_suffixes`
    ('12 Main Street.' and '12 main st' both give '12 main st').
#}
{% macro street_key(column) -%}
    {%- set words = 'trim(' ~ regexp_replace_all(regexp_replace_all(fold_accents('lower(' ~ clean_text(column) ~ ')'), '[^a-z0-9 ]', ' '), ' +', ' ') ~ ')' -%}
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
