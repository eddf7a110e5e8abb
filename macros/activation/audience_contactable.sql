{#
    A row may reach a channel only with consent on it and an identifier for it.
    Ads audiences match on hashed email or phone, so either will do.
#}
{% macro audience_contactable(channel, customer='customer') -%}
    {%- if channel == 'email' -%}
        {{ customer }}.has_email_consent and {{ customer }}.email is not null
    {%- elif channel in ('sms', 'phone') -%}
        {{ customer }}.has_{{ channel }}_consent and {{ customer }}.phone_e164 is not null
    {%- else -%}
        {{ customer }}.has_ads_consent and ({{ customer }}.email is not null or {{ customer }}.phone_e164 is not null)
    {%- endif -%}
{%- endmacro %}
