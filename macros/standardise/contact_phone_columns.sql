{% macro contact_phone_columns(name) -%}
        {%- set is_junk = 'is_' ~ name ~ '_junk' -%}
        {{ unless_junk(name ~ '_e164', is_junk) }} as {{ name }}_e164,
        {{ dq_unparseable('raw_' ~ name, name ~ '_e164') }} and not {{ is_junk }} as dq_{{ name }}_unparseable,
        {{ is_junk }} as dq_{{ name }}_junk
{%- endmacro %}
