{#
    The one date every mart is "as of": var('as_of_date') when set, otherwise the
    day after the latest customer activity in the exports (orders, sales, web,
    email, tickets). Consent logs are left out: a preference centre may record
    changes dated later than the last export of activity, and current consent is
    honoured whatever its date. Timestamps after the build's own clock are ignored
    here, so one mistyped year (2099) cannot move every recency and tenure by
    decades.
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

latest as (
    select max(activity_at) as latest_activity_at
    from activity_timestamps
    -- the clock cast once to the columns' type: compared as it is (with time zone),
    -- every one of 45M timestamps was converted instead (9 s at 1M persons)
    where activity_at <= cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }})
),

final as (
    select
        -- dates
        {% if var('as_of_date') -%}
            cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
            cast({{ dbt.dateadd('day', 1, 'cast(latest_activity_at as date)') }} as date)
        {%- endif %} as as_of_date,

        -- timestamps
        latest_activity_at
    from latest
)

select * from final
