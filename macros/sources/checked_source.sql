{#
    source(), plus the source contract's checks, run before the model reads a byte:
    - C360_RAW_FORMAT is csv or parquet;
    - every column declared for the table in its _<source>__sources.yml exists
      in the file. A missing one fails the build with a message naming the
      table, the file and the column; extra columns are simply never selected.
    Only staging models call it, as their one import of raw data.
#}
{% macro checked_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | first -%}
        {%- set raw_format = node.config.meta.get('raw_format', node.meta.get('raw_format', 'csv')) -%}
        {%- if raw_format not in ['csv', 'parquet'] -%}
            {{ exceptions.raise_compiler_error(
                "C360_RAW_FORMAT must be 'csv' or 'parquet', got '" ~ raw_format ~ "'"
            ) }}
        {%- endif -%}
        {%- set found = run_query('select * from ' ~ relation ~ ' where 1 = 0').column_names
            | map('lower') | list -%}
        {%- set missing = [] -%}
        {%- for column_name in node.columns.keys() -%}
            {%- if column_name | lower not in found -%}
                {%- do missing.append(column_name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "Raw table '" ~ node.identifier ~ "' is missing required column(s) "
                ~ missing | join(', ') ~ " (source " ~ source_name ~ "." ~ table_name
                ~ ", read as " ~ relation ~ "; found: " ~ found | join(', ') ~ ")"
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ relation }}
{%- endmacro %}
