{#
    Keyed pseudonym of a text expression: hex HMAC-SHA-256 under the secret key in
    C360_MASKING_KEY (c360.masking), NULL without a key. Unlike a plain sha256 it
    cannot be reversed by hashing a list of candidates. On DuckDB it is the UDF the
    project's dbt plugin registers; elsewhere, register c360.masking.keyed_hash (key
    bound) as a UDF named c360_keyed_hash. The key is read at query time, never
    written into SQL.
#}
{% macro keyed_hash(expression) -%}
    {{ return(adapter.dispatch('keyed_hash', 'customer_360')(expression)) }}
{%- endmacro %}

{% macro default__keyed_hash(expression) -%}
    c360_keyed_hash({{ expression }})
{%- endmacro %}
