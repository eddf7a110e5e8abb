{# The standardised identity columns, junk nulled, with their data-quality flags. #}
{% macro person_columns(with_birth_date=true) -%}
        first_name,
        last_name,
        first_name_key,
        first_name_canonical,
        last_name_key,
        {{ unless_junk('email', 'is_email_junk') }} as email,
        {{ unless_junk('email_key', 'is_email_junk') }} as email_key,
        {{ unless_junk('phone_e164', 'is_phone_junk') }} as phone_e164,
        {%- if with_birth_date %}
        birth_date,
        {{ dq_unparseable('raw_birth_date', 'birth_date') }} as dq_birth_date_unparseable,
        {%- endif %}
        {{ dq_unparseable('raw_email', 'email') }} as dq_email_unparseable,
        is_email_junk as dq_email_junk,
        {{ dq_unparseable('raw_phone', 'phone_e164') }} and not is_phone_junk as dq_phone_unparseable,
        is_phone_junk as dq_phone_junk
{%- endmacro %}
