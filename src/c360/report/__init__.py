"""Static HTML reports of a built warehouse for reviewers: identity model, review, quality,
churn (python -m c360.report). Warehouse reads live in c360.report.queries."""
