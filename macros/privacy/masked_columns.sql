{#
    The select list of a masked copy of a model, driven by its YAML: every column whose
    meta has pii: true is masked as its meta `masking` says, every other column passes
    through. Types never change, so the masked model keeps the original's contract and a
    dashboard built on one runs on the other. The kinds (threat model: docs/privacy.md):
      - drop (the default for a pii column) -> NULL: names, streets, cities; low-entropy
        values that a keyed hash would still give away by their frequency
      - keyed_hash  -> HMAC-SHA-256 under C360_MASKING_KEY (text, or each element of a
        list of text): joinable across masked marts, not reversible by guessing
      - year        -> 1 January of the same year (a date)
      - postal_area -> the first three characters of a postal code (a ZIP's area)
    Tagging a column `meta: {pii: true}` masks it here (dropped) without editing any SQL.
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
            {%- set meta = column.meta or {} -%}
            {%- set masking = meta.get('masking', 'drop') -%}
            {%- set where = "masked_columns: PII column '" ~ model_name ~ "." ~ column.name ~ "'" -%}
            {%- if meta.get('pii', false) -%}
                {%- if not data_type -%}
                    {{ exceptions.raise_compiler_error(where ~ " has no data_type in YAML") }}
                {%- endif -%}
                {%- if masking == 'drop' -%}
                    cast(null as {{ data_type }})
                {%- elif masking == 'keyed_hash' and data_type.endswith('[]') -%}
                    {{ keyed_hash_list(qualified) }}
                {%- elif masking == 'keyed_hash' and data_type in ('varchar', 'text', 'string') -%}
                    {{ keyed_hash(qualified) }}
                {%- elif masking == 'year' and data_type == 'date' -%}
                    cast({{ dbt.date_trunc('year', qualified) }} as date)
                {%- elif masking == 'postal_area' and data_type in ('varchar', 'text', 'string') -%}
                    substring({{ qualified }}, 1, 3)
                {%- else -%}
                    {{ exceptions.raise_compiler_error(
                        where ~ ": masking '" ~ masking ~ "' does not apply to a " ~ data_type
                        ~ " (drop, keyed_hash for text or text[], year for date, postal_area for text)") }}
                {%- endif %} as {{ column.name }}
            {%- else -%}
                {{ qualified }}
            {%- endif -%}
            {%- if not loop.last %},
            {% endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
