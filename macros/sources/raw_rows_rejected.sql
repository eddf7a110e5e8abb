{#
    post-hook of every staging model: fails the model when its CSV had lines that
    cannot be read as the header's columns, naming the file, each line number and
    what is wrong, with the line itself. Never skips them: a bad line is an export to
    fix, not a row to lose. Parquet has no such lines; this is then a no-op.
#}
{% macro raw_rows_rejected() -%}
    {%- if execute and model.resource_type == 'model' -%}
        {%- set table = raw_rejects_table(model.name) -%}
        {%- set exists = run_query(
            "select count(*) from duckdb_tables() where temporary and table_name = '" ~ table ~ "'"
        ).columns[0].values()[0] -%}
        {%- if exists -%}
            {%- set rejected = run_query(
                "select errors.line, errors.error_type, errors.column_name, errors.error_message, "
                ~ "left(errors.csv_line, 200) as csv_line, scans.file_path "
                ~ "from " ~ table ~ " as errors inner join " ~ table ~ "_scans as scans "
                ~ "on errors.scan_id = scans.scan_id and errors.file_id = scans.file_id "
                ~ "order by errors.line, errors.error_type") -%}
            {%- if rejected.rows | length > 0 -%}
                {%- set lines = [] -%}
                {%- for row in rejected.rows[:10] -%}
                    {%- do lines.append("line " ~ row['line'] ~ ": " ~ raw_reject_reason(row)
                        ~ " [" ~ row['csv_line'] ~ "]") -%}
                {%- endfor -%}
                {{ exceptions.raise_compiler_error(
                    "Raw file " ~ rejected.rows[0]['file_path'] ~ " has "
                    ~ rejected.rows | map(attribute='line') | unique | list | length
                    ~ " line(s) that cannot be read as its header's columns:\n  "
                    ~ lines | join("\n  ")
                    ~ ("\n  ..." if rejected.rows | length > 10 else "")
                    ~ "\nNothing was skipped: fix these lines in the export (quote a value that"
                    ~ " holds a comma or a quote, doubling the quote) and build again.") }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
