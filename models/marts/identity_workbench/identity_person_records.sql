{#
    Every person record with the columns identity resolution matches and guards on: the
    interface of the Python identity tools (c360.identity train, evaluate, decisions,
    blocking; c360.bench), which read it instead of int_person_records_unioned. A view in
    the identity_workbench schema (see its YAML): it holds PII of every record, erased
    customers' included, and is never published.
#}
with

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

final as (
    select
        -- ids
        person_record_id,
        source_system,

        {{ person_match_columns() }}
    from person_records
)

select * from final
