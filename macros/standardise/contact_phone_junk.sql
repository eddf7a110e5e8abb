{% macro contact_phone_junk(name) -%}
    {{ is_junk_identifier(phone_digits('raw_' ~ name), 'phone') }} as is_{{ name }}_junk
{%- endmacro %}
