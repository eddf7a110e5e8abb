{#
    Match key for identity resolution only (blocking and Splink comparisons).
    Postal code for matching: leading zeros dropped, because spreadsheets drop them
    ('02134' -> '2134'). Two codes that differ only there are one code; no two real
    codes of one country differ only by leading zeros.
#}
{% macro postal_code_match_key(postal_code) -%}
    nullif({{ regexp_replace_all(postal_code, '^0+', '') }}, '')
{%- endmacro %}
