{#
    Match key for identity resolution only (blocking and Splink comparisons).
    The numbered email handle: the local part of the email match key with
    everything but letters and digits removed, kept only when it holds a
    digit ('james_smith.15984@yahoo.com' and 'jamessmith15984@aol.com' ->
    'jamessmith15984'; 'info@shop.example' -> NULL). A number is what someone
    picked to make a handle theirs: the same numbered handle at two addresses
    is one person, where info@, sales@ or jsmith@ at two providers are not.
    A column of its own, so blocking and comparisons are plain equality on
    any backend. Portable SQL: dbt's cross-database macros and the project's
    regexp primitives.
#}
{% macro email_handle(email_key) -%}
    {%- set handle = regexp_replace_all(dbt.split_part(email_key, "'@'", 1), '[^a-z0-9]', '') -%}
    case
        when {{ regexp_contains(handle, '[0-9]') }} then {{ handle }}
    end
{%- endmacro %}
