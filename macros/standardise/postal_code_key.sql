{# Postal code key: upper case, letters and digits only; US ZIP+4 cut to the ZIP. #}
{% macro postal_code_key(column) -%}
    {%- set compact = 'upper(' ~ regexp_replace_all(clean_text(column), '[^A-Za-z0-9]', '') ~ ')' -%}
    case
        when {{ regexp_full_match(compact, '[0-9]{9}') }} then left({{ compact }}, 5)
        else nullif({{ compact }}, '')
    end
{%- endmacro %}
