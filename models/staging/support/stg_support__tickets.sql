with

source as (
    select * from {{ checked_source('support', 'tickets') }}
),

parsed as (
    select
        -- ids
        {{ clean_code('ticket_id') }} as ticket_id,
        {{ clean_code('order_id') }} as order_id,

        -- person identity fields: requester_name is one free-text field,
        -- "first last" or just a first name
        {{ person_fields(first_word('requester_name'), after_first_word('requester_name'),
            'requester_email', 'requester_phone') }},
        {{ clean_name('requester_name') }} as requester_name,

        -- strings
        lower({{ clean_code('channel') }}) as channel,
        {{ parse_enum('category', ['complaint', 'question', 'return', 'delivery']) }} as category,
        {{ parse_enum('status', ['open', 'resolved']) }} as status,
        {{ clean_code('category') }} as raw_category,
        {{ clean_code('status') }} as raw_status,

        -- numerics
        case
            when {{ parse_integer('satisfaction_score') }} between 1 and 5
                then {{ parse_integer('satisfaction_score') }}
        end as satisfaction_score,
        {{ clean_code('satisfaction_score') }} as raw_satisfaction_score,

        -- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('resolved_at') }} as resolved_at,
        {{ clean_code('created_at') }} as raw_created_at,
        {{ clean_code('resolved_at') }} as raw_resolved_at
    from source
),

{{ person_keyed_and_flagged_ctes('parsed') }},

final as (
    select
        -- ids
        ticket_id,
        order_id,

        -- person identity fields and their data-quality flags
        requester_name,
        {{ person_columns(with_birth_date=false) }},

        -- strings
        channel,
        category,
        status,

        -- numerics
        satisfaction_score,

        -- booleans
        {{ dq_unparseable('raw_category', 'category') }} as dq_category_unparseable,
        {{ dq_unparseable('raw_status', 'status') }} as dq_status_unparseable,
        {{ dq_unparseable('raw_satisfaction_score', 'satisfaction_score') }} as dq_satisfaction_score_unparseable,
        {{ dq_unparseable('raw_created_at', 'created_at') }} as dq_created_at_unparseable,
        {{ dq_unparseable('raw_resolved_at', 'resolved_at') }} as dq_resolved_at_unparseable,

        -- timestamps
        created_at,
        resolved_at
    from flagged
)

select * from final
