{#
    The digits a person typed, without a leading NANP 1: what the junk list
    (seed junk_identifiers, type phone) is compared with, so 0000000000 and
    1234567890 are recognised as placeholders even though they are not phones.
#}
{% macro phone_digits(column) -%}
    {%- set digits = regexp_replace_all(clean_text(column), '[^0-9]', '') -%}
    case
        when length({{ digits }}) = 11 and {{ digits }} like '1%' then substr({{ digits }}, 2)
        else nullif({{ digits }}, '')
    end
{%- endmacro %}
