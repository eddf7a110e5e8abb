{#
    The columns Splink compares and the clustering guards read, one list for every
    view that hands person records to the Python identity step
    (c360.identity.scoring.MATCH_COLUMNS without person_record_id): the identity
    workbench's identity_person_records and resolve's resolve_index, so training,
    the benchmark and resolve always see the same columns. Ends a select list: the
    caller puts its ids before it.
#}
{% macro person_match_columns() -%}
        -- strings
        first_name_key,
        first_name_canonical,
        last_name_key,
        email_key,
        email_handle,
        phone_e164,
        postal_code,
        postal_code_key,
        street_key,
        street_number,
        street_name_key,

        -- dates
        birth_date
{%- endmacro %}
