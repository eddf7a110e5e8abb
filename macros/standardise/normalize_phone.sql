{#
    Phone to E.164 (+12125550100), NULL when it is not a phone number.

    Most retail phones are North American, so for a NANP default region the
    common shapes ((212) 555-0100, 212.555.0100, +1 212 555 0100, 12125550100)
    are normalised in plain SQL: 10 digits, or 1 + 10 digits, whose area code and
    exchange start with 2-9. Anything else (a foreign +country code, an
    extension, letters, a non-NANP default region) goes to the UDF
    c360_phone_e164(raw, region), which is Google's libphonenumber (Python
    `phonenumbers`) applying the same NANP rule; tests check the two paths agree.
#}
{% macro normalize_phone(column, default_region=none) -%}
    {%- set region = (default_region or checked_var('default_phone_region')) | upper -%}
    {%- set raw = clean_text(column) -%}
    {%- set digits = regexp_replace_all(raw, '[^0-9]', '') -%}
    {%- set national = 'right(' ~ digits ~ ', 10)' -%}
    {%- set nanp_ok -%}
        (substr({{ national }}, 1, 1) between '2' and '9' and substr({{ national }}, 4, 1) between '2' and '9')
    {%- endset -%}
    {%- if region in ['US', 'CA', 'PR', 'GU', 'VI', 'AS', 'MP'] -%}
    case
        when {{ raw }} is null then null
        when {{ regexp_full_match(raw, '[0-9 .()-]+') }} and length({{ digits }}) = 10
            then case when {{ nanp_ok }} then '+1' || {{ national }} end
        when {{ regexp_full_match(raw, '[+]?[0-9 .()-]+') }} and length({{ digits }}) = 11
            and {{ digits }} like '1%'
            then case when {{ nanp_ok }} then '+1' || {{ national }} end
        else c360_phone_e164({{ raw }}, '{{ region }}')
    end
    {%- else -%}
    c360_phone_e164({{ raw }}, '{{ region }}')
    {%- endif -%}
{%- endmacro %}
