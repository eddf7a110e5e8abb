-- No feature row uses an event dated on or after its snapshot: every recency is at least
-- a day, lifetime totals contain the windows, and the latest snapshot equals the as-of
-- date. tests/python/test_customer_360.py proves it end to end by rewriting the future.
select
    features.churn_feature_id,
    features.days_since_last_order,
    features.days_since_last_web_session,
    features.tenure_days
from {{ ref('churn_features') }} as features
cross join {{ ref('int_as_of_date') }} as as_of
where
    features.days_since_last_order < 1
    or features.days_since_last_web_session < 1
    or features.tenure_days < features.days_since_last_order
    or features.orders_lifetime < features.orders_365d
    or features.orders_365d < features.orders_90d
    or features.snapshot_date > as_of.as_of_date
