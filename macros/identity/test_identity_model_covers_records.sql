{#
    The identity model and the person records disagree on which identifiers exist:
    the model compares one no record carries (no_data), or ignores one they carry
    (not_compared). Configured to warn: the build is still valid, but the model was
    trained on other data and `make train` should be run on these records.
#}
{% test identity_model_covers_records(model) %}
    select *
    from {{ model }}
    where coverage_status in ('no_data', 'not_compared')
{% endtest %}
