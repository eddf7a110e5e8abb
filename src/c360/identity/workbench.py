"""Where the Python identity tools read the build: the contracted identity workbench views.

train, evaluate, decisions, blocking and the benchmark read these relations and nothing
of the intermediate layer, so identity resolution can change inside (a model renamed, a
table split) as long as the views' contracts hold (models/marts/identity_workbench). They
live in the build warehouse's `identity_workbench` schema, which is never published: run
the tools on the build warehouse.
"""

from __future__ import annotations

# every person record with its match and guard columns (scoring.MATCH_COLUMNS, source_system)
PERSON_RECORDS = "identity_workbench.identity_person_records"
# Splink's scored pairs and the deterministic links, the evidence clustering decides from
SCORED_PAIRS = "identity_workbench.identity_scored_pairs"

PAIRS_SQL = f"""
    select person_record_id_l, person_record_id_r, match_probability, is_contradictory
    from {SCORED_PAIRS}
"""


def records_sql(columns: list[str] | None = None, order: bool = False) -> str:
    """`select` of the person records: `columns` (all when None), by person_record_id when
    `order`."""
    selected = ", ".join(columns) if columns else "*"
    return f"select {selected} from {PERSON_RECORDS}" + (
        " order by person_record_id" if order else ""
    )
