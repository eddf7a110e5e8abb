"""Every customer id ever issued -> the id that names its customer now (Python: following
merged_into chains needs recursion; c360.identity.stable_ids.aliases_from_lineage)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from c360.identity.stable_ids import aliases_from_lineage

    return aliases_from_lineage(dbt.ref("int_customer_id_lineage").arrow().read_all())
