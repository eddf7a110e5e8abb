{#
    Monthly snapshot dates for churn_features: the as-of date and the
    var('churn_snapshot_months') - 1 months before it. A snapshot is labelled when
    its whole horizon (var('churn_horizon_days')) lies before the as-of date.
#}
with

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

snapshots as (
    {% for months_back in range(var('churn_snapshot_months')) %}
        select cast({{ dbt.dateadd('month', -months_back, 'as_of_date') }} as date) as snapshot_date
        from as_of
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        -- dates
        snapshots.snapshot_date,
        cast({{ dbt.dateadd('day', var('churn_horizon_days'), 'snapshots.snapshot_date') }} as date)
            as horizon_end_date,

        -- booleans
        {{ dbt.dateadd('day', var('churn_horizon_days'), 'snapshots.snapshot_date') }} <= as_of.as_of_date
            as is_labelled
    from snapshots
    cross join as_of
)

select * from final
