{#
    The base of every staging column: text, trimmed, inner whitespace collapsed,
    and the empty string read as missing (the source contract's rule).
    The collapsing regex only runs on values that need it (a run of two
    whitespace characters, or a tab or line break): checking is about half the
    cost of replacing, and almost no value needs it (BENCHMARKS.md).
#}
{% macro clean_text(column) -%}
    {%- set text = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' -%}
    nullif(trim(case
        when {{ regexp_contains(text, '\\s\\s|[\\t\\n\\f\\r]') }}
            then {{ regexp_replace_all(text, '\\s+', ' ') }}
        else {{ text }}
    end), '')
{%- endmacro %}
