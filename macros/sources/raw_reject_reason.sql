{# One malformed CSV line's problem in words (DuckDB's error_type and message). #}
{% macro raw_reject_reason(row) -%}
    {%- set kind = row['error_type'] | string -%}
    {%- if kind == 'TOO MANY COLUMNS' -%}
        {%- set reason = "more fields than the header has columns (" ~ row['error_message'] ~ ")" -%}
    {%- elif kind == 'MISSING COLUMNS' -%}
        {%- set reason = "fewer fields than the header has columns (" ~ row['error_message'] ~ ")" -%}
    {%- elif kind == 'UNQUOTED VALUE' -%}
        {%- set reason = "a quote is opened and not closed, or a value after a closing quote" -%}
    {%- elif kind == 'INVALID ENCODING' -%}
        {%- set reason = "not valid UTF-8" -%}
    {%- elif kind == 'LINE SIZE OVER MAXIMUM' -%}
        {%- set reason = "longer than the maximum line size (often a quote never closed)" -%}
    {%- else -%}
        {%- set reason = kind | lower ~ " (" ~ row['error_message'] ~ ")" -%}
    {%- endif -%}
    {{ return(reason) }}
{%- endmacro %}
