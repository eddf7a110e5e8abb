{#
    Erasure in the marts: every mart that names a customer keeps only customers
    without an erasure request (int_erased_customers resolves requests through the
    identity graph). One definition, used by every mart, so a new mart drops erased
    customers by calling the same macro.

    is_erased_customer(column): true when the customer id in `column` has an
    erasure request; false for a NULL id (an anonymous row is nobody's).
    without_erased_customers(column): the filter for a where clause.
#}
{% macro is_erased_customer(customer_id_column) -%}
    coalesce(
        {{ customer_id_column }} in (
            select erased_customers.customer_id
            from {{ ref('int_erased_customers') }} as erased_customers
        ),
        false
    )
{%- endmacro %}
