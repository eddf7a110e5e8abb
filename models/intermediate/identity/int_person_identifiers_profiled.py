"""Which identifiers the scoring model compares and how many person records carry each.

A model trained on other data (the committed one, on exports with email and phone) may
compare identifiers these records lack, or ignore ones they have: both are logged as a
warning here and flagged by this model's test, so the build says "run make train".
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import json
    import logging

    from c360.identity.scoring import IDENTIFIER_COLUMNS, model_coverage, model_path

    path = model_path(dbt.config.get("model_path"))
    counts = (
        dbt.ref("int_person_records_unioned")
        .aggregate(", ".join(f"count({column}) as {column}" for column in IDENTIFIER_COLUMNS))
        .fetchall()[0]
    )
    coverage = model_coverage(
        dict(zip(IDENTIFIER_COLUMNS, counts, strict=True)), json.loads(path.read_text())
    )
    for row in coverage.to_pylist():
        if row["coverage_status"] == "no_data":
            logging.getLogger("c360").warning(
                "identity model %s compares %s, which no person record carries: its weights "
                "were learnt on other data; run `make train` on these records",
                path,
                row["identifier"],
            )
        elif row["coverage_status"] == "not_compared":
            logging.getLogger("c360").warning(
                "identity model %s does not compare %s, which %d person records carry; "
                "run `make train` on these records",
                path,
                row["identifier"],
                row["records_with_value"],
            )
    return coverage
