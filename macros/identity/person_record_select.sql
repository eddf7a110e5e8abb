{#
    One branch of int_person_records_unioned: a person-bearing staging CTE in the
    common person-record shape. Columns a source does not have are passed as
    none and become typed NULLs, so every branch lines up.
#}
{% macro person_record_select(source_system, cte, id_column, birth_date='birth_date',
    street_key='street_key', street_address='street_address', city='city', postal_code='postal_code',
    country='country', created_at='created_at', updated_at='updated_at') -%}
    select
        '{{ source_system }}' as source_system,
        {{ id_column }} as source_record_id,
        first_name,
        last_name,
        first_name_key,
        first_name_canonical,
        last_name_key,
        email,
        email_key,
        phone_e164,
        {{ birth_date if birth_date else 'cast(null as date)' }} as birth_date,
        {{ street_key if street_key else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as street_key,
        {{ street_address if street_address else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as street_address,
        {{ city if city else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as city,
        {{ postal_code if postal_code else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as postal_code,
        {{ country if country else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as country,
        {{ created_at }} as record_created_at,
        {{ updated_at }} as record_updated_at
    from {{ cte }}
{%- endmacro %}
