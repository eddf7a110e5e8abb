{#
    Email for display and contact: trimmed, lower-cased, and NULL unless it has
    the shape local@domain.tld (so 'n/a' or 'john at gmail' count as unparseable).
#}
{% macro normalize_email(column) -%}
    case
        when {{ regexp_full_match('lower(' ~ clean_text(column) ~ ')', '[^@ ]+@[^@ ]+[.][a-z]{2,}') }}
            then lower({{ clean_text(column) }})
    end
{%- endmacro %}
