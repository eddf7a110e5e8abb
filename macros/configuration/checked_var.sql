{#
    var(name), checked against its rule in var_rules(): a value of the wrong kind or
    out of range fails the compile with the var's name, its value and what is allowed.
    Returns the value as given, so the SQL it renders is the same as var()'s.
#}
{% macro checked_var(name) -%}
    {%- set rules = var_rules() -%}
    {%- if name not in rules -%}
        {{ exceptions.raise_compiler_error(
            "checked_var: var '" ~ name ~ "' has no rule in macros/configuration/var_rules.sql") }}
    {%- endif -%}
    {%- set rule = rules[name] -%}
    {%- set value = var(name) -%}
    {%- set text = value | string | trim -%}
    {%- set where = "var " ~ name ~ " = '" ~ text ~ "'" -%}
    {%- if rule.kind in ['int', 'number'] -%}
        {%- set shape = '[+-]?[0-9]+' if rule.kind == 'int' else '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?' -%}
        {%- if value is boolean or not modules.re.fullmatch(shape, text) -%}
            {{ exceptions.raise_compiler_error(
                where ~ " is not " ~ ("a whole number" if rule.kind == 'int' else "a number")
                ~ " (dbt_project.yml vars or --vars)") }}
        {%- endif -%}
        {%- set number = text | float -%}
        {%- set low = var(rule.min_var) | float if rule.get('min_var') else none -%}
        {%- set high = var(rule.max_var) | float if rule.get('max_var') else none -%}
        {%- if rule.get('min') is not none and number < rule.min -%}
            {{ exceptions.raise_compiler_error(where ~ " is below its minimum " ~ rule.min) }}
        {%- endif -%}
        {%- if rule.get('max') is not none and number > rule.max -%}
            {{ exceptions.raise_compiler_error(where ~ " is above its maximum " ~ rule.max) }}
        {%- endif -%}
        {%- if low is not none and number < low -%}
            {{ exceptions.raise_compiler_error(
                where ~ " is below " ~ rule.min_var ~ " (" ~ low ~ "); the two must stay in that order") }}
        {%- endif -%}
        {%- if high is not none and number > high -%}
            {{ exceptions.raise_compiler_error(
                where ~ " is above " ~ rule.max_var ~ " (" ~ high ~ "); the two must stay in that order") }}
        {%- endif -%}
    {%- elif rule.kind in ['date', 'date_or_empty'] -%}
        {%- if not (rule.kind == 'date_or_empty' and text == '') -%}
            {%- set parts = modules.re.fullmatch('([0-9]{4})-([0-9]{2})-([0-9]{2})', text) -%}
            {%- set ok = false -%}
            {%- if parts -%}
                {%- set year, month, day = parts.group(1) | int, parts.group(2) | int, parts.group(3) | int -%}
                {%- set leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
                {%- set days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
                {%- set ok = 1 <= month <= 12 and 1 <= day <= days[month - 1] -%}
            {%- endif -%}
            {%- if not ok -%}
                {{ exceptions.raise_compiler_error(
                    where ~ " is not a date written YYYY-MM-DD"
                    ~ (" (or empty)" if rule.kind == 'date_or_empty' else "")) }}
            {%- endif -%}
        {%- endif -%}
    {%- elif rule.kind == 'boolean' -%}
        {%- if text | lower not in ['true', 'false', '1', '0', 'yes', 'no'] -%}
            {{ exceptions.raise_compiler_error(where ~ " is not true or false") }}
        {%- endif -%}
    {%- elif rule.kind == 'pattern' -%}
        {%- if not modules.re.fullmatch(rule.pattern, text) -%}
            {{ exceptions.raise_compiler_error(where ~ " is not " ~ rule.means) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
