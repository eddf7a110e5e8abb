-- Consent in customer_360 reflects the latest event per channel that counts (a grant
-- dated after the as-of date does not); no event, no consent. Recomputed here with
-- max(recorded_at), independently of the models' row_number.
{%- set channels = ['email', 'sms', 'phone', 'ads'] %}
with

events as (
    select attributed.*
    from {{ ref('int_consent_events_attributed') }} as attributed
    cross join {{ ref('int_as_of_date') }} as as_of
    where
        attributed.customer_id is not null
        and attributed.channel is not null
        and attributed.recorded_at is not null
        and (
            attributed.status is distinct from 'granted'
            or attributed.recorded_at < cast(as_of.as_of_date as {{ dbt.type_timestamp() }})
        )
),

latest_at as (
    select
        customer_id,
        channel,
        max(recorded_at) as latest_recorded_at
    from events
    group by customer_id, channel
),

latest as (
    select
        latest_at.customer_id,
        latest_at.channel,
        latest_at.latest_recorded_at,
        -- a grant and a revocation at the same instant: revoked
        min(case when events.is_granted then 1 else 0 end) = 1 as is_granted
    from latest_at
    inner join events
        on
            latest_at.customer_id = events.customer_id
            and latest_at.channel = events.channel
            and latest_at.latest_recorded_at = events.recorded_at
    group by latest_at.customer_id, latest_at.channel, latest_at.latest_recorded_at
),

profile as (
    {% for channel in channels %}
        select
            customer_id,
            '{{ channel }}' as channel,
            has_{{ channel }}_consent as has_consent,
            {{ channel }}_consent_updated_at as consent_updated_at
        from {{ ref('customer_360') }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    profile.customer_id,
    profile.channel,
    profile.has_consent,
    latest.is_granted as latest_event_granted
from profile
left join latest
    on
        profile.customer_id = latest.customer_id
        and profile.channel = latest.channel
where
    profile.has_consent != coalesce(latest.is_granted, false)
    or profile.consent_updated_at is distinct from latest.latest_recorded_at
