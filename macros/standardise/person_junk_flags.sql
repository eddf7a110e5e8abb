{# Junk flags for the email and the phone (seed list or frequency rule). #}
{% macro person_junk_flags() -%}
        {%- set person = person_name_key('first_name_canonical', 'last_name_key') -%}
        {{ is_junk_identifier('email_key', 'email', person) }} as is_email_junk,
        {{ is_junk_identifier('phone_digits', 'phone', person) }} as is_phone_junk
{%- endmacro %}
