{#
    The one date every mart is "as of": var('as_of_date') when set, otherwise the
    day after the latest customer activity in the exports (orders, sales, web,
    email, tickets). Consent logs are left out: a preference centre may record
    changes dated later than the last export of activity, and current consent is
    honoured whatever its date. Timestamps after the build's own clock are ignored
    here, so one mistyped year (2099) cannot move every recency and tenure by
    decades.
    Exports with person tables only (every activity table header-only) fall back to
    the day after the latest person record (created or updated in CRM, shop or
    loyalty), so they build deterministically too. Only a warehouse with no
    timestamp at all falls back to the build's clock: there is nothing to be as of.
#}
with

activity_timestamps as (
    select ordered_at as activity_at from {{ ref('stg_shop__orders') }}
    union all
    select transacted_at as activity_at from {{ ref('stg_pos__transactions') }}
    union all
    select occurred_at as activity_at from {{ ref('stg_web__events') }}
    union all
    select occurred_at as activity_at from {{ ref('stg_email__events') }}
    union all
    select created_at as activity_at from {{ ref('stg_support__tickets') }}
),

record_timestamps as (
    select created_at as record_at from {{ ref('stg_crm__contacts') }}
    union all
    select updated_at as record_at from {{ ref('stg_crm__contacts') }}
    union all
    select created_at as record_at from {{ ref('stg_shop__customers') }}
    union all
    select updated_at as record_at from {{ ref('stg_shop__customers') }}
    union all
    select enrolled_at as record_at from {{ ref('stg_loyalty__members') }}
    union all
    select updated_at as record_at from {{ ref('stg_loyalty__members') }}
),

latest_activity as (
    select max(activity_at) as latest_activity_at
    from activity_timestamps
    -- the clock cast once to the columns' type: compared as it is (with time zone),
    -- every one of the activity timestamps was converted instead
    where activity_at <= cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
),

latest_record as (
    select max(record_at) as latest_record_at
    from record_timestamps
    where record_at <= cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
),

latest as (
    select
        latest_activity.latest_activity_at,
        latest_record.latest_record_at,
        case
            when latest_activity.latest_activity_at is not null then 'activity'
            when latest_record.latest_record_at is not null then 'person_records'
            else 'build_clock'
        end as derived_from,
        coalesce(
            latest_activity.latest_activity_at,
            latest_record.latest_record_at,
            cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
        ) as latest_at
    from latest_activity
    cross join latest_record
),

final as (
    select
        -- dates (first: the churn models read the first column of the first row)
        {% if var('as_of_date') -%}
            cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
            cast({{ dbt.dateadd('day', 1, 'cast(latest_at as date)') }} as date)
        {%- endif %} as as_of_date,

        -- strings
        {% if var('as_of_date') -%}
            'var' as as_of_date_source,
        {%- else -%}
            derived_from as as_of_date_source,
        {%- endif %}

        -- timestamps
        latest_activity_at,
        latest_record_at
    from latest
)

select * from final
