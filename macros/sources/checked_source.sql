{#
    source(), plus the source contract's checks, run before the model reads a row:
    - C360_RAW_FORMAT is csv or parquet;
    - every column declared for the table in its _<source>__sources.yml exists in
      the file. A missing one fails the build naming the table, the file and the
      column; extra columns are simply never selected.
    A CSV is read with the columns its own header names (read from the first line
    alone, so a bad row further down cannot disguise itself as a missing column),
    every value as text, no type sniffing, and its malformed lines recorded instead
    of failing mid-scan: raw_rows_rejected (a post-hook of every staging model) then
    fails the model naming each bad line and what is wrong with it. Rows are never
    skipped. Only staging models call it, as their one import of raw data.
#}
{% macro checked_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {#- a dbt unit test hands the model its fixture rows as the source: read those -#}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | first -%}
        {%- set meta = node.config.meta or node.meta -%}
        {%- set raw_format = meta.get('raw_format', 'csv') -%}
        {%- if raw_format not in ['csv', 'parquet'] -%}
            {{ exceptions.raise_compiler_error(
                "C360_RAW_FORMAT must be 'csv' or 'parquet', got '" ~ raw_format ~ "'"
            ) }}
        {%- endif -%}
        {%- set path = meta.raw_path ~ '/' ~ node.identifier ~ '.' ~ raw_format -%}
        {%- if raw_format == 'csv' -%}
            {%- set found = csv_header(path, node.identifier) -%}
        {%- else -%}
            {%- set found = run_query('select * from ' ~ relation ~ ' where 1 = 0').column_names
                | map('lower') | list -%}
        {%- endif -%}
        {%- set missing = [] -%}
        {%- for column_name in node.columns.keys() -%}
            {%- if column_name | lower not in found | map('lower') | list -%}
                {%- do missing.append(column_name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "Raw table '" ~ node.identifier ~ "' is missing required column(s) "
                ~ missing | join(', ') ~ " (source " ~ source_name ~ "." ~ table_name
                ~ ", file " ~ path ~ "; its header has: " ~ found | join(', ') ~ ")"
            ) }}
        {%- endif -%}
        {%- if raw_format == 'csv' -%}
            {%- set columns = [] -%}
            {%- for name in found -%}
                {%- do columns.append("'" ~ name | replace("'", "''") ~ "': 'varchar'") -%}
            {%- endfor -%}
            read_csv('{{ path }}', columns = { {{- columns | join(', ') -}} }, header = true,
                auto_detect = false, delim = ',', quote = '"', escape = '"',
                store_rejects = true, rejects_table = '{{ raw_rejects_table(model.name) }}',
                rejects_scan = '{{ raw_rejects_table(model.name) }}_scans')
        {%- else -%}
            {{ relation }}
        {%- endif -%}
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
