{% macro without_erased_customers(customer_id_column='customer_id') -%}
    not {{ is_erased_customer(customer_id_column) }}
{%- endmacro %}
