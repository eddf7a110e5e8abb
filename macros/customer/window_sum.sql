{#
    Sum of `column` over activity dated in [snapshot - days_from, snapshot - days_to):
    the last `days_from` days before the snapshot by default, or an earlier window
    (e.g. 180 to 90 days before) for trends. Rows are already filtered to dates
    before the snapshot, so nothing after it can count. Counts come out as bigint
    (DuckDB would sum integers into a 128-bit type that BI drivers do not read);
    for money pass data_type and decimals: a sum of doubles depends on the order
    rows arrive in, which varies between builds, in its last bits (1e-12 of the
    amount); rounded to 6 decimals (amounts converted from other currencies carry
    fractions of a cent) it is the same on every build, and so is a model trained
    on it.
#}
{% macro window_sum(column, days_from, days_to=0, date_column='activity.activity_date',
    snapshot_column='snapshots.snapshot_date', data_type=none, decimals=none) -%}
    cast({% if decimals is not none %}round({% endif %}sum(
        case
            when {{ date_column }} >= {{ dbt.dateadd('day', -days_from, snapshot_column) }}
                {%- if days_to %}
                and {{ date_column }} < {{ dbt.dateadd('day', -days_to, snapshot_column) }}
                {%- endif %}
                then {{ column }}
            else 0
        end
    ){% if decimals is not none %}, {{ decimals }}){% endif %} as {{ data_type or dbt.type_bigint() }})
{%- endmacro %}
