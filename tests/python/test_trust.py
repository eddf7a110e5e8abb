"""Promises to a hostile but fair user (README, "Reliability"), each kept by a test here:
no future-dated grant overrides an opt-out, nothing of an erased person is published, a
failed build is never published or exported, readers know which build they read, and a
var out of range fails naming it.

One build of the bundled sample, with crafted consent events appended, published and
exported as `make build` and `make export-audiences` would; the refusals then run on
copies of that warehouse.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from c360.activation.export import export_audiences
from c360.publish import NotPublishable, publication_marker, publish
from conftest import PROJECT_DIR, dbt, dbt_build, query

pytestmark = pytest.mark.integration

SAMPLE = PROJECT_DIR / "data" / "sample"
AS_OF = "2026-01-01"  # the sample's as-of date: the day after its latest activity
FUTURE_GRANT_AT = "2029-01-01 00:00:00"
RECENT_REVOCATION_AT = "2025-12-25 09:00:00"  # a week before the as-of date


def append_rows(path: Path, rows: list[dict]) -> None:
    with path.open(newline="") as handle:
        fields = next(csv.reader(handle))
    with path.open("a", newline="") as handle:
        csv.DictWriter(
            handle, fieldnames=fields, quoting=csv.QUOTE_ALL, lineterminator="\n"
        ).writerows(rows)


def consent_event(event_id: str, email: str, status: str, recorded_at: str) -> dict:
    return {
        "event_id": event_id,
        "email": email,
        "phone": "",
        "customer_id": "",
        "channel": "email",
        "status": status,
        "lawful_basis": "consent",
        "source_system": "preference_center",
        "recorded_at": recorded_at,
    }


def granted_only_emails(raw: Path, count: int) -> list[str]:
    """Emails whose only consent events are email grants recorded well before the as-of date."""
    events: dict[str, list[tuple[str, str, str]]] = {}
    with (raw / "consent_events.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["email"]:
                events.setdefault(row["email"], []).append(
                    (row["channel"], row["status"], row["recorded_at"])
                )
    chosen = [
        email
        for email, rows in sorted(events.items())
        if all(c == "email" and s == "granted" and t < "2025-06-01" for c, s, t in rows)
    ]
    return chosen[:count]


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("trust")
    raw = work / "raw"
    shutil.copytree(SAMPLE, raw)
    # Opted out last week, then a grant dated 2029 (a typo, a test row, a clock ahead).
    revoked_then_future = granted_only_emails(raw, 6)[:3]
    control = granted_only_emails(raw, 6)[3:]
    append_rows(
        raw / "consent_events.csv",
        [
            event
            for i, email in enumerate(revoked_then_future)
            for event in (
                consent_event(f"K-trust-revoke-{i}", email, "revoked", RECENT_REVOCATION_AT),
                consent_event(f"K-trust-future-{i}", email, "granted", FUTURE_GRANT_AT),
            )
        ],
    )
    db = work / "warehouse" / "customer_360.duckdb"
    db.parent.mkdir()
    dbt_build(raw, db, work)
    serving = work / "target" / "serving" / "customer_360.duckdb"
    publish(db, serving)
    export_audiences(serving, work / "target" / "audiences", "csv")
    return {
        "work": work,
        "raw": raw,
        "db": db,
        "serving": serving,
        "revoked_then_future": revoked_then_future,
        "control": control,
    }


def email_consent(db: Path, emails: list[str]) -> dict[str, bool]:
    """has_email_consent of the customers carrying each email (only emails that name one)."""
    rows = query(
        db,
        f"""
        select unnest(emails) as email, has_email_consent
        from customer_360
        where list_has_any(emails, {list(emails)!r})
        """,
    )
    return {email: consent for email, consent in rows if email in emails}


# 1. Future-dated consent -------------------------------------------------------------


def test_a_future_dated_grant_does_not_override_a_recent_opt_out(trial: dict) -> None:
    after = email_consent(trial["db"], trial["revoked_then_future"])
    assert after, "the crafted subjects should be customers of the sample"
    assert set(after.values()) == {False}
    # the same kind of customer without the crafted events keeps their grant
    assert set(email_consent(trial["db"], trial["control"]).values()) == {True}


def test_no_audience_member_is_let_in_by_a_grant_after_the_as_of_date(trial: dict) -> None:
    """Recomputed from the attributed events: a member's latest event that counts (a grant
    before the as-of date, or a revocation whenever) must be a grant."""
    offenders = query(
        trial["db"],
        f"""
        with counted as (
            select customer_id, channel, is_granted, recorded_at
            from intermediate.int_consent_events_attributed
            where customer_id is not null and recorded_at is not null and channel is not null
                and (status is distinct from 'granted' or recorded_at < timestamp '{AS_OF}')
        ),
        latest as (
            select customer_id, channel,
                arg_max(is_granted, [epoch(recorded_at), 1 - is_granted::int]) as is_granted
            from counted group by all
        )
        select members.audience_name, members.customer_id
        from audience_membership as members
        left join latest
            on members.customer_id = latest.customer_id
            and members.channel = latest.channel
        where latest.is_granted is distinct from true
        """,
    )
    assert offenders == []
    late = query(
        trial["db"],
        "select affected_rows from source_data_quality "
        "where source_data_quality_id = 'consent_events.recorded_at.after_as_of'",
    )
    # the sample's own late events plus the three crafted 2029 grants
    assert late and late[0][0] > 3


# 2. Nothing of an erased person is published --------------------------------------------


def erased_identifiers(db: Path) -> dict[str, set]:
    """The emails, phones, loyalty cards and full names of every customer with an erasure
    request, as the build warehouse holds them (staging keeps raw copies until upstream
    deletes them), minus values some other customer also carries."""
    rows = query(
        db,
        """
        with erased as (
            select distinct customer_id from intermediate.int_erased_customers
        ),
        records as (
            select records.*
            from intermediate.int_person_records_unioned as records
            inner join intermediate.int_person_records_customer_ids as clustered
                on records.person_record_id = clustered.person_record_id
            where clustered.customer_id in (select customer_id from erased)
        ),
        kept as (
            select unnest(emails) as value from customer_360
            union all select unnest(phones) from customer_360
            union all select first_name || ' ' || last_name from customer_360
        ),
        held as (
            select 'email' as kind, email as value from records
            union select 'phone', phone_e164 from records
            union select 'card', members.card_number
                from staging.stg_loyalty__members as members
                inner join records on records.source_system = 'loyalty'
                    and records.source_record_id = members.member_id
            union select 'name', first_name || ' ' || last_name from records
        )
        select kind, value from held
        where value is not null and value not in (select value from kept where value is not null)
        """,
    )
    found: dict[str, set] = {"email": set(), "phone": set(), "card": set(), "name": set()}
    for kind, value in rows:
        found[kind].add(value)
    return found


def tables_holding(db: Path, identifiers: dict[str, set], schemas: tuple = ("main",)) -> set:
    """(table, kind) for every table or view of `schemas` with a row holding one of the
    identifiers: any column, lists included; a name counts when first and last name are both
    in the same row."""
    exact = sorted(identifiers["email"] | identifiers["phone"] | identifiers["card"])
    pattern = "|".join(re.escape(value) for value in exact)
    hits = set()
    with duckdb.connect(str(db), read_only=True) as con:
        wanted = ", ".join(f"'{schema}'" for schema in schemas)
        tables = con.sql(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({wanted})"
        ).fetchall()
        for schema, table in tables:
            columns = [
                name
                for (name,) in con.sql(
                    "select column_name from information_schema.columns "
                    f"where table_schema = '{schema}' and table_name = '{table}'"
                ).fetchall()
            ]
            cells = ", ".join(f'cast("{column}" as varchar)' for column in columns)
            row_text = f"concat_ws(' | ', {cells})"
            relation = f'"{schema}"."{table}"'
            if (
                exact
                and con.sql(
                    f"select count(*) from {relation} where regexp_matches({row_text}, $p)",
                    params={"p": pattern},
                ).fetchall()[0][0]
            ):
                hits.add((f"{schema}.{table}", "identifier"))
            for name in identifiers["name"]:
                first, last = name.split(" ", 1)
                if con.sql(
                    f"select count(*) from {relation} where regexp_matches({row_text}, $a) "
                    f"and regexp_matches({row_text}, $b)",
                    params={"a": rf"\b{re.escape(first)}\b", "b": rf"\b{re.escape(last)}\b"},
                ).fetchall()[0][0]:
                    hits.add((f"{schema}.{table}", "name"))
    return hits


def test_erased_people_leave_no_trace_in_anything_published(trial: dict) -> None:
    identifiers = erased_identifiers(trial["db"])
    assert identifiers["email"] and identifiers["name"], "the sample has erasure requests"
    # the search does find them where they are held: the build's staging copies
    assert tables_holding(trial["db"], identifiers, ("staging",))
    # ... and nowhere in the published warehouse, every table and column
    assert tables_holding(trial["serving"], identifiers) == set()
    # ... nor in any file under target/ (dbt artefacts, published copy, audience files)
    needles = [value.encode() for kind in ("email", "phone", "card") for value in identifiers[kind]]
    files = [path for path in (trial["work"] / "target").rglob("*") if path.is_file()]
    assert any(path.suffix == ".csv" for path in files)
    leaking = [str(path) for path in files if any(n in path.read_bytes() for n in needles)]
    assert leaking == []


def test_only_the_marts_are_published(trial: dict) -> None:
    schemas = {
        schema
        for (schema,) in query(
            trial["serving"], "select distinct table_schema from information_schema.tables"
        )
    }
    assert schemas == {"main"}
    # the identity tools' views hold every person record, erased ones included: build only
    workbench = {
        name
        for (name,) in query(
            trial["db"],
            "select table_name from information_schema.tables "
            "where table_schema = 'identity_workbench'",
        )
    }
    assert workbench == {"identity_person_records", "identity_scored_pairs"}
    published = {
        name
        for (name,) in query(trial["serving"], "select table_name from information_schema.tables")
    }
    assert workbench.isdisjoint(published)
    assert query(trial["serving"], "select count(*) from customer_timeline")[0][0] > 0
    assert query(trial["serving"], "select count(*) from audience_lapsed_win_back")[0][0] > 0


# 3. A failed build is never published ------------------------------------------------------


def copy_of(trial: dict, name: str) -> Path:
    db = trial["work"] / name / "warehouse.duckdb"
    db.parent.mkdir()
    shutil.copyfile(trial["db"], db)
    return db


def test_a_failed_build_is_refused_with_its_reason(trial: dict) -> None:
    db = copy_of(trial, "failed")
    raw = trial["work"] / "failed" / "raw"
    shutil.copytree(trial["raw"], raw)
    members = (raw / "loyalty_members.csv").read_text().splitlines()
    (raw / "loyalty_members.csv").write_text("\n".join([*members, members[1]]) + "\n")
    failed = dbt(
        "build",
        "--select",
        "stg_loyalty__members",
        "--indirect-selection",
        "cautious",
        raw_path=raw,
        db_path=db,
        work_dir=db.parent,
    )
    assert failed.returncode != 0
    serving = db.parent / "serving" / "customer_360.duckdb"
    with pytest.raises(NotPublishable, match="unique_stg_loyalty__members_member_id"):
        publish(db, serving)
    assert not serving.exists()
    cli = subprocess.run(
        [sys.executable, "-m", "c360.publish", "--db", str(db), "--to", str(serving)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1
    assert "Refusing to publish" in cli.stderr and "did not pass" in cli.stderr
    # and the build's own file is not an export source either
    with pytest.raises(ValueError, match="not a published warehouse"):
        export_audiences(db, db.parent / "audiences")


def test_models_changed_without_tests_are_refused(trial: dict) -> None:
    db = copy_of(trial, "untested")
    ran = dbt(
        "run",
        "--select",
        "customer_360_masked",
        raw_path=trial["raw"],
        db_path=db,
        work_dir=db.parent,
    )
    assert ran.returncode == 0, ran.stdout[-3000:]
    with pytest.raises(NotPublishable, match="which runs no tests"):
        publish(db, db.parent / "serving.duckdb")


def test_a_build_that_never_finished_is_refused(trial: dict) -> None:
    db = copy_of(trial, "killed")
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into ops.build_runs (invocation_id, command, started_at, status) "
            "values ('killed-build', 'build', now()::timestamp, 'running')"
        )
    with pytest.raises(NotPublishable, match="still running or was killed"):
        publish(db, db.parent / "serving.duckdb")


# Readers: which build they read ------------------------------------------------------------


def test_an_open_reader_keeps_its_build_and_can_tell_a_newer_one_exists(trial: dict) -> None:
    """What docs/operations.md promises readers: an open connection keeps reading the file
    it opened (so does every new connection of the same process while one is open: DuckDB
    shares one database per path within a process); another process, or this one once all
    its connections closed, reads the new publication, which the marker file names."""
    serving = trial["work"] / "reader" / "customer_360.duckdb"
    first = publish(trial["db"], serving)
    read_publication = "select publication_id from warehouse_publication"
    old_reader = duckdb.connect(str(first), read_only=True)
    try:
        seen = old_reader.sql(read_publication).fetchall()[0][0]
        publish(trial["db"], serving)
        marker = json.loads(publication_marker(serving).read_text())
        assert marker["publication_id"] != seen
        assert old_reader.sql(read_publication).fetchall()[0][0] == seen
        assert old_reader.sql("select count(*) from customer_360").fetchall()[0][0] > 0
        other_process = subprocess.run(
            [
                sys.executable,
                "-c",
                "import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True)"
                f".sql({read_publication!r}).fetchall()[0][0])",
                str(serving),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert other_process.stdout.strip() == marker["publication_id"]
    finally:
        old_reader.close()
    assert query(serving, read_publication)[0][0] == marker["publication_id"]


# 5. Vars are validated -------------------------------------------------------------------


def test_every_var_has_a_rule_and_every_use_is_of_a_known_var() -> None:
    declared = set(yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"])
    rules_text = (PROJECT_DIR / "macros" / "configuration" / "var_rules.sql").read_text()
    rules = set(re.findall(r"'(\w+)': \{'kind'", rules_text))
    assert declared == rules
    used = set()
    for folder in ("models", "macros", "tests/dbt", "analyses"):
        for path in (PROJECT_DIR / folder).rglob("*"):
            if path.suffix in {".sql", ".yml", ".py"}:
                used |= set(re.findall(r"var\(\s*['\"](\w+)['\"]\s*\)", path.read_text()))
    assert used <= rules


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("{identity_match_threshold: 2}", "identity_match_threshold = '2' is above its maximum 1"),
        ("{churn_horizon_days: -5}", "var churn_horizon_days = '-5' is below its minimum 1"),
        ("{audience_churn_fail_share: lots}", "audience_churn_fail_share = 'lots' is not a number"),
        ("{as_of_date: '2026-02-30'}", "var as_of_date = '2026-02-30' is not a date"),
        ("{churn_max_training_rows: 0}", "churn_max_training_rows = '0' is below its minimum 1"),
        ("{churn_train_new_model: maybe}", "var churn_train_new_model = 'maybe' is not true or"),
    ],
)
def test_a_var_out_of_range_fails_before_anything_is_built(
    tmp_path: Path, override: str, message: str
) -> None:
    db = tmp_path / "warehouse.duckdb"
    result = dbt("build", "--vars", override, raw_path=SAMPLE, db_path=db, work_dir=tmp_path)
    assert result.returncode != 0
    assert message in result.stdout
    assert (
        not db.exists()
        or not query(
            db, "select count(*) from information_schema.tables where table_schema = 'staging'"
        )[0][0]
    )
