{#
    Street words: lower case, accents folded, punctuation dropped, single spaces
    ('12 Main Street.' -> '12 main street'); NULL when nothing is left.
    Computed once in `parsed`, so the suffix lookup below reads a plain column.
#}
{% macro street_words(column) -%}
    nullif(trim({{ regexp_replace_all(regexp_replace_all(fold_accents('lower(' ~ clean_text(column) ~ ')'), '[^a-z0-9 ]', ' '), ' +', ' ') }}), '')
{%- endmacro %}
