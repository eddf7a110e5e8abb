{#
    The allowed value of every project var, in one place. checked_var() applies the
    rule where a var is used, and validate_vars() (the first on-run-start hook)
    applies them all before a build touches anything, so a var out of range fails
    naming the var, its value and the allowed range instead of building a wrong
    warehouse (identity_match_threshold: 2 used to pass with every record a singleton).
    kind: int | number | boolean | date | date_or_empty | pattern; min/max are inclusive and may
    name another var (min_var/max_var) where two vars must stay in order.
    A test (tests/python/test_trust.py) checks that every var in dbt_project.yml has a rule.
#}
{% macro var_rules() -%}
    {{ return({
        'default_phone_region': {'kind': 'pattern', 'pattern': '[A-Za-z]{2}',
            'means': 'a two-letter ISO 3166 region code such as US or GB'},
        'junk_identifier_max_people': {'kind': 'int', 'min': 1},
        'identity_min_pair_probability': {'kind': 'number', 'min': 0, 'max': 1},
        'identity_match_threshold': {'kind': 'number', 'min': 0, 'max': 1,
            'min_var': 'identity_review_min_probability'},
        'identity_review_min_probability': {'kind': 'number', 'min': 0, 'max': 1,
            'min_var': 'identity_min_pair_probability'},
        'identity_max_cluster_size': {'kind': 'int', 'min': 2},
        'identity_model_path': {'kind': 'pattern', 'pattern': '(.+[.]json)?',
            'means': 'empty (the committed model) or the path of a model JSON written by make train'},
        'identity_restart_customer_ids': {'kind': 'boolean'},
        'identity_full_refresh': {'kind': 'boolean'},
        'identity_frequencies_max_growth': {'kind': 'number', 'min': 0},
        'earliest_birth_date': {'kind': 'date'},
        'as_of_date': {'kind': 'date_or_empty'},
        'reporting_currency': {'kind': 'pattern', 'pattern': '[A-Z]{3}',
            'means': 'a three-letter ISO 4217 code such as USD'},
        'web_session_gap_minutes': {'kind': 'int', 'min': 1, 'max': 1440},
        'churn_snapshot_months': {'kind': 'int', 'min': 1, 'max': 120},
        'churn_horizon_days': {'kind': 'int', 'min': 1, 'max': 3650},
        'churn_max_training_rows': {'kind': 'int', 'min': 1},
        'churn_seed': {'kind': 'int', 'min': 0},
        'churn_max_model_age_days': {'kind': 'int', 'min': 0},
        'churn_train_new_model': {'kind': 'boolean'},
        'churn_high_risk': {'kind': 'number', 'min': 0, 'max': 1, 'min_var': 'churn_medium_risk'},
        'churn_medium_risk': {'kind': 'number', 'min': 0, 'max': 1},
        'audience_change_warn_share': {'kind': 'number', 'min': 0},
        'audience_change_fail_share': {'kind': 'number', 'min': 0},
        'audience_churn_warn_share': {'kind': 'number', 'min': 0},
        'audience_churn_fail_share': {'kind': 'number', 'min': 0},
        'audience_change_min_previous_size': {'kind': 'int', 'min': 0},
    }) }}
{%- endmacro %}
