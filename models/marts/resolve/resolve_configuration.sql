{#
    What near-real-time resolve needs besides the records, one setting per row: the
    SQL that standardises an incoming record (macro resolve_input_standardised,
    rendered here so resolve runs the project's own rules, not a copy), the
    reference data that SQL reads (copied by publishing as resolve_reference_<seed>),
    and the identity variables and model the build used.
#}
{%- set reference_seeds = ['nicknames', 'junk_identifiers', 'street_suffixes'] -%}
{%- set rendered = namespace(sql=resolve_input_standardised('resolve_input')) -%}
{%- set settings = [] -%}
{%- for seed in reference_seeds -%}
    {%- set rendered.sql = rendered.sql.replace(ref(seed) | string, 'resolve_reference_' ~ seed) -%}
    {%- do settings.append(('reference_table:resolve_reference_' ~ seed,
        ref(seed).schema ~ '.' ~ ref(seed).identifier)) -%}
{%- endfor -%}
{%- do settings.append(('standardise_sql', rendered.sql)) -%}
{%- do settings.append(('match_threshold', checked_var('identity_match_threshold'))) -%}
{%- do settings.append(('max_cluster_size', checked_var('identity_max_cluster_size'))) -%}
{%- do settings.append(('model_path',
    var('identity_model_path') or env_var('C360_IDENTITY_MODEL', ''))) -%}

with

settings as (
    {%- for name, value in settings %}
        select
            '{{ name }}' as setting_name,
            '{{ value | string | replace("'", "''") }}' as setting_value
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        -- strings
        setting_name,
        setting_value
    from settings
)

select * from final
