{#
    The base of every staging column: text, trimmed, and the empty string read
    as missing (the source contract's rule). Two flavours:

    clean_text: human-typed text (names, emails, phones, addresses): inner runs
        of whitespace collapse to one space too, so 'Mary  Ann' is 'Mary Ann'.
        The collapsing regex only runs on values that need it (a run of two
        whitespace characters, or a tab or line break): checking is about half
        the cost of replacing, and almost no value needs it.
    clean_code: machine-written values (ids, codes, amounts, timestamps,
        booleans): trimmed only. Inner whitespace of an identifier is part of
        the identifier (collapsing it could make two ids one), and the regex
        check was most of staging's cost at scale: the event tables, the largest,
        carry nothing but codes.
#}
{% macro clean_text(column) -%}
    {%- set text = 'cast(' ~ column ~ ' as ' ~ dbt.type_string() ~ ')' -%}
    nullif(trim(case
        when {{ regexp_contains(text, '\\s\\s|[\\t\\n\\f\\r]') }}
            then {{ regexp_replace_all(text, '\\s+', ' ') }}
        else {{ text }}
    end), '')
{%- endmacro %}
