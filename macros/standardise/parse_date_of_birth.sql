{#
    Dates of birth arrive as ISO YYYY-MM-DD, US MM/DD/YYYY or dotted DD.MM.YYYY,
    mixed within a file; the separator tells them apart. Each shape is rebuilt as
    ISO and safe-cast, so impossible dates (31/02) become NULL. Dates before
    var('earliest_birth_date') or in the future are NULL too: they are typos or
    placeholders (00.00.0000, 1900-01-01 is kept), not birthdays.
#}
{% macro parse_date_of_birth(column) -%}
    {%- set raw = clean_text(column) -%}
    {%- set iso -%}
        case
            when {{ regexp_full_match(raw, '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}') }}
                then {{ raw }}
            when {{ regexp_full_match(raw, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}') }}
                then {{ dbt.split_part(raw, "'/'", 3) }} || '-'
                || {{ dbt.split_part(raw, "'/'", 1) }} || '-'
                || {{ dbt.split_part(raw, "'/'", 2) }}
            when {{ regexp_full_match(raw, '[0-9]{1,2}[.][0-9]{1,2}[.][0-9]{4}') }}
                then {{ dbt.split_part(raw, "'.'", 3) }} || '-'
                || {{ dbt.split_part(raw, "'.'", 2) }} || '-'
                || {{ dbt.split_part(raw, "'.'", 1) }}
        end
    {%- endset -%}
    {%- set parsed = try_cast(iso, 'date') -%}
    case
        when {{ parsed }} between cast('{{ checked_var("earliest_birth_date") }}' as date)
            and cast({{ dbt.current_timestamp() }} as date)
            then {{ parsed }}
    end
{%- endmacro %}
