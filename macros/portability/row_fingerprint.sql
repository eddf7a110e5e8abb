{#
    Fingerprint of a row's columns, as text: equal for equal values, different (but for
    a hash collision) when any column differs, NULL told apart from ''. The identity step
    compares every record's fingerprint with the one it stored, on every build, so the
    hash is the warehouse's fastest: DuckDB hash() and Spark xxhash64() (64-bit, over the
    typed columns, no text built); elsewhere md5 of the columns as text joined with '|'
    ('~' marks a NULL). A fingerprint is only compared with one of the same engine and
    version: if an upgrade changes the hash, every record counts as changed once and
    that build re-scores and re-clusters everything, as a full step does.
#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'customer_360')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    {%- set parts = [] %}
    {%- for column in columns %}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '~')") %}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif %}
    {%- endfor %}
    {{- dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro duckdb__row_fingerprint(columns) -%}
    cast(hash({{ columns | join(', ') }}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__row_fingerprint(columns) -%}
    cast(xxhash64({{ columns | join(', ') }}) as {{ dbt.type_string() }})
{%- endmacro %}
