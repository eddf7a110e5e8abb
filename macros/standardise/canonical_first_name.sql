{#
    Nickname-canonical first name: the formal name a nickname stands for
    (bob -> robert) from seed `nicknames`, else the key itself. A lookup into
    reference data (correlated subquery) keeps staging free of joins.
#}
{% macro canonical_first_name(first_name_key) -%}
    coalesce(
        (
            select nicknames.canonical_name
            from {{ ref('nicknames') }} as nicknames
            where nicknames.nickname = {{ first_name_key }}
        ),
        {{ first_name_key }}
    )
{%- endmacro %}
