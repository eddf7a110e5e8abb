"""Stable customer ids through real dbt builds of one warehouse (docs/identity-over-time.md).

Generated data built once, then changed and built again and again into the same warehouse:
the CRM record that named a customer is retired, a must-link decision merges a singleton
into a larger customer, a re-imported CRM contact joins its customer, and an erasure request
is followed by the upstream deletion of the erased record. Customers keep their ids through
all of it, every change is in customer_id_history with its reason, customer_id_aliases maps
every id to the current one, an identical rebuild and `--full-refresh` change nothing, and
only var identity_restart_customer_ids starts the ids over.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from c360.datagen import generate
from c360.identity.clustering import customer_id_for
from conftest import PROJECT_DIR, dbt, project_copy, query

pytestmark = pytest.mark.integration

PERSONS = 600
SEED = 23  # data of this module only
NEW_CONTACT = "C-test-reimported"
ERASURE = "R-test-stable-ids"


def read_rows(raw: Path, table: str) -> tuple[list[str], list[dict]]:
    with (raw / f"{table}.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(raw: Path, table: str, fields: list[str], rows: list[dict]) -> None:
    """As the generator writes: every value quoted, an empty one left empty (NULL)."""

    def line(values: list[str]) -> str:
        return ",".join('"' + v.replace('"', '""') + '"' if v else "" for v in values) + "\n"

    text = line(fields) + "".join(line([row.get(f) or "" for f in fields]) for row in rows)
    (raw / f"{table}.csv").write_text(text)


def retire_contacts(raw: Path, contact_ids: set[str]) -> None:
    """Mark CRM contacts deleted upstream (their person records leave the build)."""
    fields, rows = read_rows(raw, "crm_contacts")
    for row in rows:
        if row["contact_id"] in contact_ids:
            row["is_deleted"] = "yes"
    write_rows(raw, "crm_contacts", fields, rows)


def mapping(db: Path) -> dict[str, str]:
    return dict(
        query(
            db, "select person_record_id, customer_id from intermediate.int_person_records_resolved"
        )
    )


def history(db: Path) -> list[dict]:
    columns = "person_record_id, change_type, old_customer_id, new_customer_id, build_id"
    columns += ", evidence_kind, evidence"
    names = [name.strip() for name in columns.split(",")]
    rows = query(db, f"select {columns} from customer_id_history order by build_sequence")
    return [dict(zip(names, row, strict=True)) for row in rows]


def aliases(db: Path) -> dict[str, str | None]:
    return dict(query(db, "select customer_id, current_customer_id from customer_id_aliases"))


def pick(db: Path) -> dict:
    """The customers the changes are made to, all different, none erased."""
    per_customer = """
        with records as (
            select customer_id, person_record_id from customer_identifiers
        ),
        customers as (
            select
                customer_id,
                count(*) as records,
                min(person_record_id) as naming_record,
                count(*) filter (where person_record_id like 'crm:%') as crm_records
            from records group by customer_id
        )
        select customer_id, records, naming_record, crm_records from customers
        order by customer_id
    """
    customers = query(db, per_customer)
    emails = dict(
        query(
            db,
            """select person_record_id, email from intermediate.int_person_records_unioned
            where email is not null
                and email_key in (select email_key from intermediate.int_person_records_unioned
                                  group by email_key having count(*) = 1)""",
        )
    )
    used: set[str] = set()

    def first(condition) -> tuple:
        row = next(row for row in customers if row[0] not in used and condition(row))
        used.add(row[0])
        return row

    # A: named by a CRM record, with at least three more records
    named = first(lambda row: row[2].startswith("crm:") and row[1] >= 4 and row[3] == 1)
    # B and C, two singletons, merged by a must-link decision: the older id (B's, issued
    # first: the smaller record key) names the merged customer
    absorbing, absorbed = sorted(
        (first(lambda row: row[1] == 1 and not row[2].startswith("crm:")) for _ in range(2)),
        key=lambda row: row[2],
    )
    # D: a CRM contact of D is re-imported under a new id
    reimported = first(lambda row: row[1] >= 2 and row[3] == 1)
    # E: a singleton CRM record with an email of its own, erased then deleted upstream
    erased = first(lambda row: row[1] == 1 and row[2].startswith("crm:") and row[2] in emails)
    d_contact = query(
        db,
        f"""select person_record_id from customer_identifiers
        where customer_id = '{reimported[0]}' and person_record_id like 'crm:%'""",
    )[0][0]
    return {
        "A": named[0],
        "A_record": named[2],
        "B": absorbing[0],
        "B_record": absorbing[2],
        "C": absorbed[0],
        "C_record": absorbed[2],
        "D": reimported[0],
        "D_contact": d_contact.removeprefix("crm:"),
        "E": erased[0],
        "E_record": erased[2],
        "E_email": emails[erased[2]],
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The builds of one warehouse, a copy of it kept after each."""
    work = tmp_path_factory.mktemp("stable_ids")
    raw = work / "raw"
    generate(PERSONS, SEED, raw, "csv")
    # a copy of the project: the second build adds a must-link decision to its seed
    project = project_copy(work)
    db = work / "warehouse.duckdb"
    logs: dict[str, str] = {}

    def build(name: str, *args: str) -> Path:
        result = dbt(
            "build", *args, raw_path=raw, db_path=db, work_dir=work / name, project_dir=project
        )
        assert result.returncode == 0, result.stdout[-4000:]
        logs[name] = result.stdout
        copy = work / f"{name}.duckdb"
        shutil.copyfile(db, copy)
        return copy

    first = build("first")
    chosen = pick(first)

    # the changes: A's naming record retired upstream, C must-linked into B, D's contact
    # re-imported under a new id, an erasure request for E
    retire_contacts(raw, {chosen["A_record"].removeprefix("crm:")})
    with (project / "seeds" / "identity_must_link.csv").open("a", newline="") as handle:
        handle.write(f"{chosen['B_record']},{chosen['C_record']},test merge,tester,2026-01-01\n")
    fields, rows = read_rows(raw, "crm_contacts")
    contact = next(row for row in rows if row["contact_id"] == chosen["D_contact"])
    write_rows(raw, "crm_contacts", fields, [*rows, contact | {"contact_id": NEW_CONTACT}])
    fields, rows = read_rows(raw, "privacy_requests")
    request = {
        "request_id": ERASURE,
        "request_type": "erasure",
        "email": chosen["E_email"],
        "phone": "",
        "received_at": "2025-12-01 10:00:00",
        "status": "received",
    }
    write_rows(raw, "privacy_requests", fields, [*rows, request])
    second = build("second")
    identical = build("identical")
    # the erased record deleted upstream
    retire_contacts(raw, {chosen["E_record"].removeprefix("crm:")})
    deleted = build("deleted")
    refreshed = build("refreshed", "--full-refresh")
    # every customer changes id, so every audience churns completely (added + removed = twice
    # its size): the audience guard stops such a build unless told the churn is intended
    restart = "{identity_restart_customer_ids: true, audience_churn_fail_share: 2}"
    restarted = build("restarted", "--vars", restart)
    after_restart = build("after_restart")
    return {
        "work": work,
        "raw": raw,
        "project": project,
        "first": first,
        "second": second,
        "identical": identical,
        "deleted": deleted,
        "refreshed": refreshed,
        "restarted": restarted,
        "after_restart": after_restart,
        "logs": logs,
        **chosen,
    }


def events_of(db: Path, build: str) -> dict[str, tuple]:
    """This build's events: person_record_id -> (change, old id, new id, evidence kind)."""
    rows = query(
        db,
        f"""select person_record_id, change_type, old_customer_id, new_customer_id, evidence_kind
        from customer_id_history
        where build_sequence = (select max(build_sequence) from customer_id_history)
            and build_id = '{build}'""",
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def last_build_id(db: Path) -> str:
    return query(db, "select invocation_id from ops.build_runs order by started_at desc limit 1")[
        0
    ][0]


def test_the_first_build_gives_the_clustering_ids_and_creates_every_record(builds: dict) -> None:
    db = builds["first"]
    (different,) = query(
        db,
        """select count(*) from intermediate.int_person_records_customer_ids as ids
        inner join intermediate.int_person_records_clustered as clustered
            using (person_record_id)
        where ids.customer_id <> clustered.customer_id""",
    )[0]
    assert different == 0
    rows = history(db)
    assert len(rows) == len(mapping(db))
    assert {row["change_type"] for row in rows} == {"created"}
    assert {row["build_id"] for row in rows} == {last_build_id(db)}
    assert all(current == customer_id for customer_id, current in aliases(db).items())


def test_customers_keep_their_ids_through_a_change_of_their_records(builds: dict) -> None:
    before, after = mapping(builds["first"]), mapping(builds["second"])
    a, b = builds["A"], builds["B"]
    # A lost the record that named it: clustering names the rest otherwise, A's id stays
    rest = sorted(r for r, c in before.items() if c == a and r != builds["A_record"])
    assert customer_id_for(rest) != a
    kept = [after[r] == a for r in rest]
    assert sum(kept) > len(rest) / 2
    # every record still here that did not move by a change made keeps its id
    moved = {builds["C_record"]}
    unchanged = [r for r in before if r in after and r not in moved and before[r] != a]
    assert [r for r in unchanged if after[r] != before[r]] == []
    assert after[builds["C_record"]] == b
    assert after[f"crm:{NEW_CONTACT}"] == builds["D"]


def test_the_history_names_each_change_and_the_aliases_follow_the_merge(builds: dict) -> None:
    db = builds["second"]
    events = events_of(db, last_build_id(db))
    a, b, c, d = builds["A"], builds["B"], builds["C"], builds["D"]
    assert events[builds["A_record"]] == ("removed", a, None, "record_removed")
    assert events[builds["C_record"]] == ("merged_into", c, b, "override")
    assert events[f"crm:{NEW_CONTACT}"][:3] == ("created", None, d)
    # nothing else moved, except a record of A left apart by the removal (split_from)
    others = {
        record: event
        for record, event in events.items()
        if record not in {builds["A_record"], builds["C_record"], f"crm:{NEW_CONTACT}"}
    }
    assert all(event[0] == "split_from" and event[1] == a for event in others.values())
    found = aliases(db)
    assert found[c] == b
    assert found[a] == a
    assert found[b] == b
    retired = query(
        db,
        f"""select is_active, successor_customer_id, retired_build_id
        from customer_id_aliases where customer_id = '{c}'""",
    )
    assert retired == [(False, b, last_build_id(db))]


def test_an_identical_rebuild_records_nothing_and_keeps_every_id(builds: dict) -> None:
    assert history(builds["identical"]) == history(builds["second"])
    assert mapping(builds["identical"]) == mapping(builds["second"])
    assert aliases(builds["identical"]) == aliases(builds["second"])


def test_an_erased_record_deleted_upstream_retires_its_id_with_the_request(builds: dict) -> None:
    e, record = builds["E"], builds["E_record"]
    (flag,) = query(
        builds["identical"],
        f"select is_erased_customer from customer_id_aliases where customer_id = '{e}'",
    )[0]
    assert flag is True
    db = builds["deleted"]
    events = events_of(db, last_build_id(db))
    assert events == {record: ("retired", e, None, "erasure")}
    (evidence,) = query(
        db,
        f"select evidence from customer_id_history where person_record_id = '{record}'"
        " and change_type = 'retired'",
    )[0]
    assert evidence == f"erasure request {ERASURE}"
    assert aliases(db)[e] is None


def test_a_full_refresh_keeps_every_id_and_the_history(builds: dict) -> None:
    assert mapping(builds["refreshed"]) == mapping(builds["deleted"])
    assert history(builds["refreshed"]) == history(builds["deleted"])
    # the marts carry the same ids
    for db in (builds["deleted"], builds["refreshed"]):
        assert query(db, "select count(*) from customer_360")[0][0] > 0
    assert set(query(builds["refreshed"], "select customer_id from customer_360")) == set(
        query(builds["deleted"], "select customer_id from customer_360")
    )


def test_only_the_restart_var_starts_the_ids_over_and_never_reuses_one(builds: dict) -> None:
    before, after = mapping(builds["refreshed"]), mapping(builds["restarted"])
    assert set(before) == set(after)
    issued_before = set(aliases(builds["refreshed"]))
    assert not set(after.values()) & issued_before
    db = builds["restarted"]
    events = events_of(db, last_build_id(db))
    assert set(events) == set(after)
    assert {(event[0], event[3]) for event in events.values()} == {("created", "restart")}
    assert all(events[record][1] == before[record] for record in after)
    found = aliases(db)
    assert all(found[customer_id] is None for customer_id in issued_before)
    assert all(found[customer_id] == customer_id for customer_id in set(after.values()))
    # the next build carries the new ids on
    assert mapping(builds["after_restart"]) == after
    assert history(builds["after_restart"]) == history(db)


def test_a_restart_var_that_is_not_a_boolean_fails_before_anything_is_built(
    tmp_path: Path,
) -> None:
    result = dbt(
        "build",
        "--vars",
        "{identity_restart_customer_ids: maybe}",
        raw_path=PROJECT_DIR / "data" / "sample",
        db_path=tmp_path / "warehouse.duckdb",
        work_dir=tmp_path,
    )
    assert result.returncode != 0
    assert "var identity_restart_customer_ids = 'maybe' is not true or false" in result.stdout
