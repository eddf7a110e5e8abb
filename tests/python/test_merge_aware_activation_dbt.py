"""Merge-aware activation through real dbt builds (docs/activation.md, "Merges").

Generated data built once; then two must-link decisions merge customers and the project is
built again into the same warehouse: two members of lapsed_win_back merged into one,
and a member merged into an older customer who was in no audience. The changes log writes
one merged_into row per old id (no removal of the old id, no addition of the new one),
customer_id_changes has the old -> new row for a merge-capable sync, the audience guard at
zero tolerance for that audience lets the merges through (they are not churn), and an
identical rebuild logs nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from c360.datagen import generate
from conftest import dbt, project_copy, query

pytestmark = pytest.mark.integration

PERSONS = 600
SEED = 31  # data of this module only
VARS = "{as_of_date: '2026-01-01'}"
AUDIENCE = "lapsed_win_back"  # 2+ purchases, the last 6 to 24 months ago: a merge keeps it
# the guard of AUDIENCE in the copied project: any member added or removed stops the build
ZERO_TOLERANCE = "guard: {fail_share: 0, churn_fail_share: 0, min_previous_size: 1}"


def singletons(db: Path) -> list[tuple[str, str, bool, bool]]:
    """Customers of one person record, in record order: (customer_id, record, in AUDIENCE,
    has purchased)."""
    return query(
        db,
        f"""
        with records as (
            select customer_id, min(person_record_id) as record, count(*) as records
            from customer_identifiers group by customer_id
        ),
        members as (
            select customer_id from audience_membership where audience_name = '{AUDIENCE}'
        )
        select
            records.customer_id,
            records.record,
            records.customer_id in (select customer_id from members) as is_member,
            coalesce(customer.purchase_count, 0) > 0 as has_purchased
        from records
        inner join customer_360 as customer using (customer_id)
        where records.records = 1
        order by records.record
        """,
    )


def in_no_audience(db: Path, customer_id: str) -> bool:
    found = query(
        db, f"select count(*) from audience_membership where customer_id = '{customer_id}'"
    )
    return found[0][0] == 0


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("merges")
    raw = work / "raw"
    generate(PERSONS, SEED, raw, "csv")
    project = project_copy(work)
    audiences = project / "models" / "marts" / "activation" / "audiences.yml"
    predicate = (
        "predicate: customer.purchase_count >= 2"
        " and signals.days_since_last_purchase between 180 and 730\n"
    )
    text = audiences.read_text()
    assert predicate in text
    audiences.write_text(text.replace(predicate, predicate + f"            {ZERO_TOLERANCE}\n"))
    db = work / "warehouse.duckdb"

    def build(name: str) -> Path:
        result = dbt(
            "build", "--vars", VARS, raw_path=raw, db_path=db, work_dir=work / name,
            project_dir=project,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-4000:]
        copy = work / f"{name}.duckdb"
        shutil.copyfile(db, copy)
        return copy

    first = build("first")
    candidates = singletons(first)
    members = [row for row in candidates if row[2]]
    assert len(members) >= 3, "the generated data has too few single-record members"
    # two members merged: the older id (the smaller record key) names the merged customer
    kept, absorbed = members[0], members[1]
    # a member merged into an older customer in no audience and without purchases
    joining = members[2]
    older = next(
        row
        for row in candidates
        if not row[2] and not row[3] and row[1] < joining[1] and in_no_audience(first, row[0])
    )
    with (project / "seeds" / "identity_must_link.csv").open("a", newline="") as handle:
        handle.write(f"{kept[1]},{absorbed[1]},test merge of members,tester,2026-01-01\n")
        handle.write(f"{older[1]},{joining[1]},test merge into a non-member,tester,2026-01-01\n")
    second = build("second")
    identical = build("identical")
    return {
        "first": first,
        "second": second,
        "identical": identical,
        "kept": kept[0],
        "absorbed": absorbed[0],
        "joining": joining[0],
        "older": older[0],
    }


def changes_of(db: Path, customer_ids: list[str]) -> list[tuple]:
    """The last build's changes log rows of these customers, under either id."""
    ids = ", ".join(f"'{customer_id}'" for customer_id in customer_ids)
    return query(
        db,
        f"""select audience_name, change_type, customer_id, merged_into_customer_id
        from audience_membership_changes
        where changed_at = (select max(changed_at) from audience_membership_changes)
            and (customer_id in ({ids}) or merged_into_customer_id in ({ids}))
        order by audience_name, change_type, customer_id""",
    )


def test_the_merges_happened_as_chosen(builds: dict) -> None:
    db = builds["second"]
    aliases = dict(query(db, "select customer_id, current_customer_id from customer_id_aliases"))
    assert aliases[builds["absorbed"]] == builds["kept"]
    assert aliases[builds["joining"]] == builds["older"]
    members = {
        customer_id
        for (customer_id,) in query(
            db, f"select customer_id from audience_membership where audience_name = '{AUDIENCE}'"
        )
    }
    assert {builds["kept"], builds["older"]} <= members
    assert not {builds["absorbed"], builds["joining"]} & members


def test_two_members_merged_log_one_merged_into_row(builds: dict) -> None:
    kept, absorbed = builds["kept"], builds["absorbed"]
    rows = changes_of(builds["second"], [kept, absorbed])
    assert (AUDIENCE, "merged_into", absorbed, kept) in rows
    ours = [row for row in rows if row[0] == AUDIENCE]
    assert ours == [(AUDIENCE, "merged_into", absorbed, kept)]
    # in no audience is the absorbed id removed while the one it merged into is a member
    assert not [row for row in rows if row[1] == "removed" and row[2] == absorbed]


def test_a_member_merged_into_a_non_member_logs_no_addition(builds: dict) -> None:
    joining, older = builds["joining"], builds["older"]
    rows = changes_of(builds["second"], [joining, older])
    ours = [row for row in rows if row[0] == AUDIENCE]
    assert ours == [(AUDIENCE, "merged_into", joining, older)]
    # the row carries the surviving member's identifiers, to upsert
    logged = query(
        builds["second"],
        f"""select email_sha256 from audience_membership_changes
        where customer_id = '{joining}' and change_type = 'merged_into'""",
    )
    current = query(
        builds["second"],
        f"""select email_sha256 from audience_membership
        where customer_id = '{older}' and audience_name = '{AUDIENCE}'""",
    )
    assert logged == current and current[0][0] is not None


def test_the_log_reads_the_merged_members_as_members_of_the_audience(builds: dict) -> None:
    """Replaying the log gives the membership: the identical rebuild logs nothing."""
    db = builds["identical"]
    last = query(db, "select count(distinct dbt_invocation_id) from audience_membership_changes")
    assert last[0][0] == 2
    assert query(db, "select * from audience_membership_changes order by all") == query(
        builds["second"], "select * from audience_membership_changes order by all"
    )


def test_customer_id_changes_has_each_merge_once(builds: dict) -> None:
    db = builds["second"]
    rows = query(
        db,
        """select old_customer_id, new_customer_id, records_moved, is_successor_customer_id,
            build_id = (select invocation_id from ops.build_runs
                        order by started_at desc limit 1) as is_last_build
        from customer_id_changes order by old_customer_id""",
    )
    expected = {
        (builds["absorbed"], builds["kept"], 1, True, True),
        (builds["joining"], builds["older"], 1, True, True),
    }
    assert set(rows) == expected
    assert len(rows) == 2
    assert query(builds["first"], "select count(*) from customer_id_changes")[0][0] == 0
    assert query(builds["identical"], "select * from customer_id_changes order by all") == query(
        db, "select * from customer_id_changes order by all"
    )
    # the same pairs as the history's merged_into events
    events = query(
        db,
        """select distinct old_customer_id, new_customer_id from customer_id_history
        where change_type = 'merged_into'""",
    )
    assert {(old, new) for old, new, *_ in rows} == set(events)


def test_the_guard_at_zero_tolerance_counted_the_merges_as_no_change(builds: dict) -> None:
    """The second build passed with AUDIENCE's guard stopping at any addition or removal:
    its members changed only by the merges. Without them it would have lost two members."""
    before = query(
        builds["first"],
        f"select count(*) from audience_membership where audience_name = '{AUDIENCE}'",
    )[0][0]
    after = query(
        builds["second"],
        f"select count(*) from audience_membership where audience_name = '{AUDIENCE}'",
    )[0][0]
    # kept and absorbed are one member now; joining is a member as older
    assert after == before - 1
