"""Incremental linkage through real dbt builds of one warehouse (docs/identity-over-time.md).

Generated data built with the CRM contacts and support tickets created last held out; then
they arrive, one existing contact changes its email and another is deleted upstream, a build
stops after scoring them (before clustering), one of the arrivals is deleted upstream again,
and the next build is incremental: it scores and re-clusters only what changed. Its pairs,
clusters and customer ids equal those of a full identity step with the same frozen
frequencies (var identity_full_refresh); an identical rebuild scores and re-clusters
nothing; the log says which path ran and why.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from c360.datagen import generate
from conftest import dbt, query
from test_stable_ids_dbt import read_rows, retire_contacts, write_rows

pytestmark = pytest.mark.integration

PERSONS = 2000
SEED = 41  # data of this module only
HELD_OUT = {"crm_contacts": ("contact_id", 25), "support_tickets": ("ticket_id", 15)}
# the identity models whose step is compared (everything else is downstream of them)
SELECT = "+int_person_records_customer_ids"
INDIRECT = "--indirect-selection=cautious"  # only the tests of the models built


def hold_out(full: Path, raw: Path) -> dict[str, list[dict]]:
    """raw = full without the CRM contacts and support tickets created last; returns them."""
    shutil.copytree(full, raw)
    held = {}
    for table, (_, count) in HELD_OUT.items():
        fields, rows = read_rows(full, table)
        ordered = sorted(rows, key=lambda row: row["created_at"])
        held[table] = ordered[-count:]
        write_rows(raw, table, fields, ordered[:-count])
    return held


def pairs(db: Path) -> set[tuple]:
    return set(
        query(
            db,
            "select person_record_id_l, person_record_id_r, match_probability, match_weight,"
            " match_key, comparison_levels, is_contradictory"
            " from intermediate.int_person_pairs_scored",
        )
    )


def clusters(db: Path) -> dict[str, tuple]:
    rows = query(
        db,
        "select person_record_id, customer_id, cluster_confidence, identity_component"
        " from intermediate.int_person_records_clustered",
    )
    return {row[0]: row[1:] for row in rows}


def customer_ids(db: Path) -> dict[str, str]:
    return dict(
        query(
            db,
            "select person_record_id, customer_id"
            " from intermediate.int_person_records_customer_ids",
        )
    )


def identity_lines(log: str) -> list[str]:
    return re.findall(r"identity (?:scoring|clustering): .*", log)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("identity_incremental")
    full, raw = work / "full", work / "raw"
    generate(PERSONS, SEED, full, "csv")
    held = hold_out(full, raw)
    db = work / "warehouse.duckdb"
    logs: dict[str, str] = {}

    def build(name: str, *args: str) -> Path:
        result = dbt(
            "build", "-s", SELECT, INDIRECT, *args, raw_path=raw, db_path=db, work_dir=work / name
        )
        assert result.returncode == 0, result.stdout[-4000:]
        logs[name] = result.stdout
        copy = work / f"{name}.duckdb"
        shutil.copyfile(db, copy)
        return copy

    first = build("first")
    # the held-out records arrive; an existing contact changes its email, another is deleted
    for table, rows in held.items():
        fields, present = read_rows(raw, table)
        write_rows(raw, table, fields, [*present, *rows])
    fields, contacts = read_rows(raw, "crm_contacts")
    # a contact matched by its email changes it; another one is deleted upstream
    paired = {
        row[0]
        for row in query(
            first,
            "select person_record_id_l from intermediate.int_person_pairs_scored"
            " where comparison_levels like '%email_key: Exact%'"
            " union select person_record_id_r from intermediate.int_person_pairs_scored"
            " where comparison_levels like '%email_key: Exact%'",
        )
    }
    with_email = [
        row
        for row in contacts
        if row["email"] and row["is_deleted"] == "no" and f"crm:{row['contact_id']}" in paired
    ]
    changed, removed = with_email[10], with_email[20]
    changed["email"] = "changed." + changed["email"]
    write_rows(raw, "crm_contacts", fields, contacts)
    retire_contacts(raw, {removed["contact_id"]})
    # a build that stops after scoring, before clustering: the next one must still be right
    stopped = dbt(
        "run",
        "-s",
        "+int_person_pairs_scored",
        raw_path=raw,
        db_path=db,
        work_dir=work / "stopped",
    )
    assert stopped.returncode == 0, stopped.stdout[-4000:]
    logs["stopped"] = stopped.stdout
    # a held-out contact the stopped build scored is deleted upstream before the next
    # build: neither the records nor the clustering state hold it any more, its pairs go
    scored = {
        row[0]
        for row in query(
            db,
            "select person_record_id_l from intermediate.int_person_pairs_scored"
            " union select person_record_id_r from intermediate.int_person_pairs_scored",
        )
    }
    withdrawn = sorted(
        f"crm:{row['contact_id']}"
        for row in held["crm_contacts"]
        if f"crm:{row['contact_id']}" in scored
    )[0]
    retire_contacts(raw, {withdrawn.removeprefix("crm:")})
    incremental = build("incremental")
    identical = build("identical")
    full_step = build("full_step", "--vars", "{identity_full_refresh: true}")
    return {
        "first": first,
        "incremental": incremental,
        "identical": identical,
        "full_step": full_step,
        "logs": logs,
        "held": held,
        "changed": f"crm:{changed['contact_id']}",
        "removed": f"crm:{removed['contact_id']}",
        "withdrawn": withdrawn,
    }


def test_the_first_build_is_a_full_identity_step(builds: dict) -> None:
    lines = identity_lines(builds["logs"]["first"])
    assert "identity scoring: full (first build or --full-refresh)" in lines
    assert any(line.startswith("identity clustering: full (first build") for line in lines)


def test_new_changed_and_removed_records_are_scored_and_reclustered_incrementally(
    builds: dict,
) -> None:
    lines = identity_lines(builds["logs"]["incremental"])
    # the held-out person records (a contact deleted upstream is none)
    held = len(set(clusters(builds["incremental"])) - set(clusters(builds["first"])))
    assert held >= len(builds["held"]["support_tickets"])
    scoring = next(line for line in lines if line.startswith("identity scoring"))
    # the held-out records and the changed one are new; the removed one only loses pairs
    assert scoring.startswith(f"identity scoring: incremental ({held + 1} new or changed")
    # the stopped build's pairs of the same records are dropped before they are scored again
    stopped = identity_lines(builds["logs"]["stopped"])[0]
    # it also scored the contact withdrawn before the incremental build
    assert stopped.startswith(f"identity scoring: incremental ({held + 2} new or changed")
    assert stopped.endswith("2 records' stored pairs dropped)")
    dropped = int(re.search(r"(\d+) records' stored pairs dropped", scoring).group(1))
    assert dropped > 2
    clustering = next(line for line in lines if line.startswith("identity clustering"))
    assert clustering.startswith("identity clustering: incremental, re-clustered")
    # the records scoring found new or changed are read, not compared again
    assert clustering.endswith("changes as scoring found them)")
    reclustered = int(re.search(r"re-clustered (\d+) of (\d+)", clustering).group(1))
    total = int(re.search(r"re-clustered (\d+) of (\d+)", clustering).group(2))
    assert 0 < reclustered < total / 2

    db, first = builds["incremental"], builds["first"]
    for record in (builds["removed"], builds["withdrawn"]):
        assert record not in clusters(db)
        assert all(record not in pair[:2] for pair in pairs(db))
    # the changed record's pairs were scored again: its old email's pairs are gone
    changed = builds["changed"]
    before = {pair for pair in pairs(first) if changed in pair[:2]}
    after = {pair for pair in pairs(db) if changed in pair[:2]}
    assert before and before != after
    # the frozen frequencies were kept: the records grew by less than 10%
    versions = "select distinct frequencies_version from intermediate.int_identity_frequencies"
    assert query(first, versions) == query(db, versions)


def test_the_incremental_step_equals_a_full_one_with_the_same_frequencies(builds: dict) -> None:
    incremental, full_step = builds["incremental"], builds["full_step"]
    lines = identity_lines(builds["logs"]["full_step"])
    assert "identity scoring: full (var identity_full_refresh)" in lines
    assert any(
        line.startswith("identity clustering: full (var identity_full_refresh)") for line in lines
    )
    assert pairs(incremental) == pairs(full_step)
    assert clusters(incremental) == clusters(full_step)
    assert customer_ids(incremental) == customer_ids(full_step)
    # the incremental build assigned ids to its re-clustered part only; the full step,
    # assigning every record, finds nothing to change
    last = query(full_step, "select invocation_id from ops.build_runs order by started_at desc")
    appended = query(
        full_step,
        "select count(*) from intermediate.int_customer_id_lineage"
        f" where build_id = '{last[0][0]}'",
    )
    assert appended == [(0,)]


def test_an_identical_rebuild_scores_and_reclusters_nothing(builds: dict) -> None:
    lines = identity_lines(builds["logs"]["identical"])
    assert any(line.startswith("identity scoring: incremental (0 new or changed") for line in lines)
    assert any("re-clustered 0 of" in line for line in lines)
    assert pairs(builds["identical"]) == pairs(builds["incremental"])
    # every row as the incremental build left it, down to the build that clustered it
    state = "select * from intermediate.int_person_records_clustered"
    assert set(query(builds["identical"], state)) == set(query(builds["incremental"], state))
    assert customer_ids(builds["identical"]) == customer_ids(builds["incremental"])
