{#
    Matching key for an already normalised email: drops a +tag
    (john+shop@x.com is john@x.com) and, for Gmail, which ignores dots in the
    local part, the dots too. Used for linking, never for sending.
#}
{% macro email_match_key(email) -%}
    {%- set local_part = dbt.split_part(dbt.split_part(email, "'@'", 1), "'+'", 1) -%}
    {%- set domain = dbt.split_part(email, "'@'", 2) -%}
    case
        when {{ email }} is null then null
        when {{ domain }} in ('gmail.com', 'googlemail.com')
            then replace({{ local_part }}, '.', '') || '@gmail.com'
        else {{ local_part }} || '@' || {{ domain }}
    end
{%- endmacro %}
