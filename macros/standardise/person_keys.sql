{# Keys that need the parsed fields: email match key, nickname-canonical first name. #}
{% macro person_keys() -%}
        {{ email_match_key('email') }} as email_key,
        {{ canonical_first_name('first_name_key') }} as first_name_canonical
{%- endmacro %}
