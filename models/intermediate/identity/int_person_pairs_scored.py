"""Record pairs scored by the committed Splink model (c360.identity.scoring)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from c360.identity.scoring import score_pairs

    records = dbt.ref("int_person_records_unioned").arrow().read_all()
    return score_pairs(records, threshold=float(dbt.config.get("min_pair_probability")))
