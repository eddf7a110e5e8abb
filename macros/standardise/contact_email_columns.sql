{% macro contact_email_columns(name) -%}
        {%- set is_junk = 'is_' ~ name ~ '_junk' -%}
        {{ unless_junk(name, is_junk) }} as {{ name }},
        {{ unless_junk(email_match_key(name), is_junk) }} as {{ name }}_key,
        {{ dq_unparseable('raw_' ~ name, name) }} as dq_{{ name }}_unparseable,
        {{ is_junk }} as dq_{{ name }}_junk
{%- endmacro %}
