{#
    What each source lost in staging: per raw table and column, how many values
    could not be parsed (now NULL) or were nulled as junk. Built from the
    dq_<column>_<issue> flags of every staging model, counted in
    int_source_flags_counted (found by name, so a new flag is counted without
    touching either model). Plus the one check that needs the as-of date, which
    staging cannot know: consent events dated after it.
#}
with

consent_events as (
    select * from {{ ref('int_consent_events_attributed') }}
),

flag_counts as (
    select * from {{ ref('int_source_flags_counted') }}
),

-- one row per event there (an event naming several customers has several rows)
consent_timing as (
    select
        'consent_events' as source_table,
        'recorded_at' as column_name,
        'after_as_of' as issue,
        cast(count(distinct event_id) as {{ dbt.type_bigint() }}) as rows_in_table,
        cast(
            count(distinct case when dq_recorded_at_after_as_of then event_id end)
            as {{ dbt.type_bigint() }}
        ) as affected_rows
    from consent_events
),

issues as (
    select * from flag_counts
    union all
    select * from consent_timing
),

final as (
    select
        -- ids
        {{ dbt.concat(['source_table', "'.'", 'column_name', "'.'", 'issue']) }} as source_data_quality_id,

        -- strings
        source_table,
        column_name,
        issue,

        -- numerics
        rows_in_table,
        coalesce(affected_rows, 0) as affected_rows,
        case
            when rows_in_table > 0 then round(1.0 * coalesce(affected_rows, 0) / rows_in_table, 6)
            else 0
        end as affected_share
    from issues
)

select * from final
