{#
    True when an email or phone is a placeholder rather than a person's own:
    listed in seed `junk_identifiers` (test@test.com, 0000000000, ...), or
    carried by more than var('junk_identifier_max_people') different people
    (distinct canonical name keys) in the same table, like a store's default
    receipt address typed in by clerks. Households share an identifier between a
    few people, which stays under the limit.

    value: the expression compared with the seed (email match key, phone digits)
    identifier_type: 'email' or 'phone'
    people_key: expression naming the person (see person_name_key), or none to
        apply the seed list only (tables without names)
#}
{% macro is_junk_identifier(value, identifier_type, people_key=none) -%}
    (
        {{ value }} is not null
        and (
        {{ value }} in (
            select junk_identifiers.identifier_value
            from {{ ref('junk_identifiers') }} as junk_identifiers
            where junk_identifiers.identifier_type = '{{ identifier_type }}'
        )
        {%- if people_key is not none %}
        or {{ count_distinct_over(people_key, value) }} > {{ checked_var('junk_identifier_max_people') }}
        {%- endif %}
        )
    )
{%- endmacro %}
