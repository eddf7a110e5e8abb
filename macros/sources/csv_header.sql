{#
    The column names in the first line of a CSV file, read as one line of text (no
    sniffing, so the rest of the file cannot change what the header says). Fails
    naming the file when the header is empty or names a column twice.
#}
{% macro csv_header(path, table) -%}
    {%- set line = run_query(
        "select * from read_csv('" ~ path ~ "', header = false, auto_detect = false, "
        ~ "columns = {'line': 'varchar'}, delim = '\x1f', quote = '', escape = '', "
        ~ "strict_mode = false) limit 1").columns[0].values() -%}
    {%- set text = (line[0] if line else '') or '' -%}
    {%- set names = [] -%}
    {%- for quoted, bare in modules.re.findall('\\s*(?:"((?:[^"]|"")*)"|([^,]*))\\s*(?:,|$)',
            text.lstrip('\ufeff'))[:-1] if text -%}
        {%- do names.append((quoted | replace('""', '"')) if quoted else bare | trim) -%}
    {%- endfor -%}
    {%- if not names or names | select | list | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Raw table '" ~ table ~ "' (" ~ path ~ ") has no header line: the first line of a "
            ~ "contract CSV names its columns") }}
    {%- endif -%}
    {%- set seen = [] -%}
    {%- for name in names -%}
        {%- if name | lower in seen -%}
            {{ exceptions.raise_compiler_error(
                "Raw table '" ~ table ~ "' (" ~ path ~ ") names column '" ~ name ~ "' twice in its header") }}
        {%- endif -%}
        {%- do seen.append(name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
