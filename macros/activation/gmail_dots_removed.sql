{#
    An email as Google's enhanced conversions (Google Ads API, Campaign Manager 360)
    normalise it before hashing: the dots of the local part removed for gmail.com and
    googlemail.com addresses, everything else as it is (the +tag stays). The email
    must already be trimmed and lower-cased (staging's `email` is). Customer Match
    accepts either form; Meta and the others take the plain lower-cased email.
#}
{% macro gmail_dots_removed(email) -%}
    case
        when {{ dbt.split_part(email, "'@'", 2) }} in ('gmail.com', 'googlemail.com')
            then {{ dbt.concat([
                "replace(" ~ dbt.split_part(email, "'@'", 1) ~ ", '.', '')",
                "'@'",
                dbt.split_part(email, "'@'", 2),
            ]) }}
        else {{ email }}
    end
{%- endmacro %}
