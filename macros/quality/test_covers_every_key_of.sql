{#
    Generic test: the model's `column_name` holds exactly the distinct non-null values
    of `parent_column` in `parent_model`, none missing and none extra (with a
    unique test on the column: exactly one row per parent key).
#}
{% test covers_every_key_of(model, column_name, parent_model, parent_column) %}
    with

    parent_keys as (
        select distinct {{ parent_column }} as key_value
        from {{ parent_model }}
        where {{ parent_column }} is not null
    ),

    model_keys as (
        select distinct {{ column_name }} as key_value
        from {{ model }}
    )

    select
        coalesce(parent_keys.key_value, model_keys.key_value) as key_value,
        case when parent_keys.key_value is null then 'extra' else 'missing' end as problem
    from parent_keys
    full outer join model_keys
        on parent_keys.key_value = model_keys.key_value
    where parent_keys.key_value is null or model_keys.key_value is null
{% endtest %}
