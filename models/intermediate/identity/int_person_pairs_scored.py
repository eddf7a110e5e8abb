"""Record pairs scored by the committed Splink model (c360.identity.scoring)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from c360.identity.scoring import MATCH_COLUMNS, model_path, score_pairs

    # only the columns Splink compares leave the warehouse
    records = (
        dbt.ref("int_person_records_unioned").project(", ".join(MATCH_COLUMNS)).arrow().read_all()
    )
    return score_pairs(
        records,
        threshold=float(dbt.config.get("min_pair_probability")),
        model_path=model_path(dbt.config.get("model_path")),
    )
