{#
    on-run-end: one view per declared audience, audience_<name>, over
    audience_membership. Views, not copies: they are always exactly the tested table.
#}
{% macro create_audience_views() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set membership = adapter.get_relation(
        database=target.database, schema=target.schema, identifier='audience_membership') -%}
    {%- if membership is none -%}{{ return('') }}{%- endif -%}
    {%- set statements = [] -%}
    {%- for audience in audience_definitions() -%}
        {%- do statements.append(
            'create or replace view ' ~ adapter.quote(target.schema) ~ '.audience_' ~ audience.name
            ~ ' as select * from ' ~ membership ~ " where audience_name = '" ~ audience.name ~ "'") -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
