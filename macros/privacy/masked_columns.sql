{#
    The select list of a masked copy of a model, driven by its YAML: every column
    whose meta has pii: true is masked according to its declared data_type, every
    other column passes through. Tagging a column `meta: {pii: true}` masks it here
    without editing any SQL. Types never change, so the masked model keeps the
    contract of the original:
      - text          -> sha256 hex of the value (joinable across marts, unreadable)
      - date          -> 1 January of the same year (year only)
      - list of text  -> list of sha256 hexes (each element hashed)
      - anything else -> NULL of the same type
    Reads graph.nodes, so it renders only at execution (at parse time, `*`).
#}
{% macro masked_columns(model_name, relation_alias) -%}
    {%- if not execute -%}
        {{ relation_alias }}.*
    {%- else -%}
        {%- set matches = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'model')
            | selectattr('name', 'equalto', model_name)
            | list -%}
        {%- if matches | length != 1 -%}
            {{ exceptions.raise_compiler_error(
                "masked_columns: expected one model named '" ~ model_name ~ "', found " ~ (matches | length)) }}
        {%- endif -%}
        {%- set columns = matches[0].columns.values() | list -%}
        {%- if columns | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "masked_columns: model '" ~ model_name ~ "' declares no columns in YAML; nothing to mask by") }}
        {%- endif -%}
        {%- for column in columns -%}
            {%- set qualified = relation_alias ~ '.' ~ column.name -%}
            {%- set data_type = (column.data_type or '') | lower | trim -%}
            {%- if (column.meta or {}).get('pii', false) -%}
                {%- if data_type.endswith('[]') -%}
                    {{ sha256_list(qualified) }}
                {%- elif data_type == 'date' -%}
                    cast({{ dbt.date_trunc('year', qualified) }} as date)
                {%- elif data_type in ('varchar', 'text', 'string') -%}
                    {{ sha256(qualified) }}
                {%- elif data_type -%}
                    cast(null as {{ data_type }})
                {%- else -%}
                    {{ exceptions.raise_compiler_error(
                        "masked_columns: PII column '" ~ model_name ~ "." ~ column.name
                        ~ "' has no data_type in YAML; cannot choose how to mask it") }}
                {%- endif %} as {{ column.name }}
            {%- else -%}
                {{ qualified }}
            {%- endif -%}
            {%- if not loop.last %},
            {% endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
