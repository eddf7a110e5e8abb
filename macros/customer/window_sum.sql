{#
    Sum of `column` over activity dated in [snapshot - days_from, snapshot - days_to):
    the last `days_from` days before the snapshot by default, or an earlier window
    (e.g. 180 to 90 days before) for trends. Rows are already filtered to dates
    before the snapshot, so nothing after it can count. Counts come out as bigint
    (DuckDB would sum integers into a 128-bit type that BI drivers do not read);
    pass data_type for money.
#}
{% macro window_sum(column, days_from, days_to=0, date_column='activity.activity_date',
    snapshot_column='snapshots.snapshot_date', data_type=none) -%}
    cast(sum(
        case
            when {{ date_column }} >= {{ dbt.dateadd('day', -days_from, snapshot_column) }}
                {%- if days_to %}
                and {{ date_column }} < {{ dbt.dateadd('day', -days_to, snapshot_column) }}
                {%- endif %}
                then {{ column }}
            else 0
        end
    ) as {{ data_type or dbt.type_bigint() }})
{%- endmacro %}
