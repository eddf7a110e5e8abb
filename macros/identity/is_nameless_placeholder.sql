{#
    True on a record without a name whose identifier (email or phone match key)
    is carried by nameless records at more than var('junk_identifier_max_people')
    different postal codes: a placeholder such as a store's own address typed
    into guest checkouts. The staging junk rule counts the different names an
    identifier is carried by, so it cannot see placeholders on records without
    names; the postal code stands in for the person there. Named records keep
    the identifier (staging judged them), so a person's own email on guest
    orders shipped to many addresses stays linked through their named records.
    Expects first_name_key, last_name_key and postal_code_key in scope.

    value: the identifier column (email_key, phone_e164)
#}
{% macro is_nameless_placeholder(value) -%}
    {%- set nameless = 'first_name_key is null and last_name_key is null' -%}
    (
        {{ value }} is not null
        and {{ nameless }}
        and {{ count_distinct_over('case when ' ~ nameless ~ ' then postal_code_key end', value) }}
        > {{ checked_var('junk_identifier_max_people') }}
    )
{%- endmacro %}
