{# Postal address fields for display and matching (street, city, postal code, country). #}
{% macro address_fields(street, city, postal_code, country) -%}
        {{ clean_text(street) }} as street_address,
        {{ street_words(street) }} as street_words,
        {{ clean_name(city) }} as city,
        {{ postal_code_key(postal_code) }} as postal_code,
        upper({{ clean_text(country) }}) as country
{%- endmacro %}
