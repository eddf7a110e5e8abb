{#
    first_value / last_value of a window that skip NULLs ("the last login before",
    "the first login after"). DuckDB takes IGNORE NULLS inside the parentheses,
    Spark as the function's second argument.
    position: 'first' or 'last'.
#}
{% macro value_ignoring_nulls(position, expression) -%}
    {%- if position not in ['first', 'last'] -%}
        {{ exceptions.raise_compiler_error(
            "value_ignoring_nulls: position must be 'first' or 'last', got '" ~ position ~ "'") }}
    {%- endif -%}
    {{ return(adapter.dispatch('value_ignoring_nulls', 'customer_360')(position, expression)) }}
{%- endmacro %}

{% macro default__value_ignoring_nulls(position, expression) -%}
    {{ position }}_value({{ expression }} ignore nulls)
{%- endmacro %}

{% macro spark__value_ignoring_nulls(position, expression) -%}
    {{ position }}_value({{ expression }}, true)
{%- endmacro %}
