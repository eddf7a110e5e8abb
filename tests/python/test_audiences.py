"""Audiences end to end: consent enforced in every row, changes kept across builds, the size
guard stopping a build that would empty an audience, hashes and file exports."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from c360.activation.export import export_audiences
from c360.datagen import generate
from c360.privacy import email_match_key
from c360.publish import publish
from conftest import dbt, query

pytestmark = pytest.mark.integration

PERSONS = 600
SEED = 19  # data of this module only
VARS = "{as_of_date: '2026-01-01'}"
EMAIL_AUDIENCES = ("high_value_at_risk", "lapsed_win_back", "new_customer_welcome")
GOOGLE_DOMAINS = ("gmail.com", "googlemail.com")


def build(raw: Path, db: Path, work: Path, *extra: str):
    return dbt("build", "--vars", VARS, *extra, raw_path=raw, db_path=db, work_dir=work)


def add_consent_events(raw: Path, rows: list[dict]) -> None:
    path = raw / "consent_events.csv"
    with path.open(newline="") as handle:
        fields = next(csv.reader(handle))
    with path.open("a", newline="") as handle:
        csv.DictWriter(
            handle, fieldnames=fields, quoting=csv.QUOTE_ALL, lineterminator="\n"
        ).writerows(rows)


def revoke(event_id: str, email: str, status: str = "revoked") -> dict:
    return {
        "event_id": event_id,
        "email": email,
        "phone": "",
        "customer_id": "",
        "channel": "email",
        "status": status,
        "lawful_basis": "consent",
        "source_system": "preference_center",
        "recorded_at": "2025-12-31 12:00:00",
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three builds into one warehouse file: as exported; after one member revokes email
    consent; after every email member revokes (which the guard must refuse)."""
    work = tmp_path_factory.mktemp("audiences")
    raw = work / "raw"
    generate(PERSONS, SEED, raw, "csv")
    db = work / "warehouse.duckdb"
    first = build(raw, db, work / "first")
    assert first.returncode == 0, first.stdout[-4000:]
    snapshot = work / "first.duckdb"
    shutil.copyfile(db, snapshot)

    members = query(
        db,
        f"""select customer_id, email from audience_membership
        where audience_name in {EMAIL_AUDIENCES} order by customer_id""",
    )
    leaver, leaver_email = members[0]
    add_consent_events(raw, [revoke("K-test-leaver", leaver_email)])
    second = build(raw, db, work / "second")
    assert second.returncode == 0, second.stdout[-4000:]
    after_second = work / "second.duckdb"
    shutil.copyfile(db, after_second)
    raw_second = work / "raw_second"
    shutil.copytree(raw, raw_second)

    add_consent_events(
        raw, [revoke(f"K-test-all-{i}", email) for i, (_, email) in enumerate(members)]
    )
    third = build(raw, db, work / "third")
    return {
        "work": work,
        "first": snapshot,
        "second": after_second,
        "raw_second": raw_second,
        "third": third,
        "db": db,
        "leaver": leaver,
        "members": members,
    }


def test_no_audience_row_lacks_consent_on_its_channel(builds: dict) -> None:
    db = builds["first"]
    audiences = {
        name for (name,) in query(db, "select distinct audience_name from audience_membership")
    }
    assert len(audiences) >= 5
    offenders = query(
        db,
        """
        select m.audience_name, m.customer_id
        from audience_membership as m
        inner join customer_360 as c using (customer_id)
        where (m.channel = 'email' and not (c.has_email_consent and c.email is not null))
            or (m.channel in ('sms', 'phone')
                and not (case m.channel when 'sms' then c.has_sms_consent
                    else c.has_phone_consent end and c.phone_e164 is not null))
            or (m.channel = 'ads' and not c.has_ads_consent)
        """,
    )
    assert offenders == []
    # and consent is what keeps people out: predicates alone would admit more
    excluded = query(
        db,
        """select count(*) from customer_360
        where churn_risk_band = 'high' and historical_clv >= 1000 and not has_email_consent""",
    )[0][0]
    assert excluded > 0


def test_every_audience_has_a_view_equal_to_its_rows(builds: dict) -> None:
    db = builds["first"]
    for (name,) in query(db, "select distinct audience_name from audience_membership"):
        view = query(db, f"select count(*) from audience_{name}")[0][0]
        rows = query(db, f"select count(*) from audience_membership where audience_name = '{name}'")
        assert view == rows[0][0] > 0


def test_a_revoked_consent_removes_the_member_and_logs_it(builds: dict) -> None:
    db, leaver = builds["second"], builds["leaver"]
    remaining = query(
        db,
        f"""select count(*) from audience_membership
        where customer_id = '{leaver}' and channel = 'email'""",
    )[0][0]
    assert remaining == 0
    changes = query(
        db,
        f"""select audience_name, change_type from audience_membership_changes
        where customer_id = '{leaver}' order by changed_at, change_type""",
    )
    assert ("added" in {c for _, c in changes}) and ("removed" in {c for _, c in changes})
    runs = query(db, "select count(distinct dbt_invocation_id) from audience_membership_changes")
    assert runs[0][0] == 2
    # the second build logged only what changed, not the whole membership again
    second_run = query(
        db,
        """select count(*) from audience_membership_changes
        where changed_at = (select max(changed_at) from audience_membership_changes)""",
    )[0][0]
    assert 0 < second_run < 10


def test_a_build_that_would_empty_an_audience_fails_and_logs_nothing(builds: dict) -> None:
    third = builds["third"]
    assert third.returncode != 0
    assert "Audience guard stopped the build: audience " in third.stdout
    assert "it would be emptied" in third.stdout
    runs = query(
        builds["db"], "select count(distinct dbt_invocation_id) from audience_membership_changes"
    )
    assert runs[0][0] == 2, "the refused build must not record its removals"


def rebuild_from_second(builds: dict, name: str, events: list[dict]):
    """The second build's warehouse and exports, plus `events`, built again."""
    work = builds["work"] / name
    raw = work / "raw"
    shutil.copytree(builds["raw_second"], raw)
    add_consent_events(raw, events)
    db = work / "warehouse.duckdb"
    shutil.copyfile(builds["second"], db)
    return build(raw, db, work), db


def logged_builds(db: Path) -> int:
    return query(db, "select count(distinct dbt_invocation_id) from audience_membership_changes")[
        0
    ][0]


def test_swapping_most_members_of_an_audience_fails_though_its_size_holds(builds: dict) -> None:
    """Half of lapsed_win_back's members revoke, as many eligible customers grant: the size
    barely moves, the membership churns; the guard must stop it before any sync sees it."""
    db = builds["second"]
    members = query(
        db,
        """select customer_id, email from audience_membership
        where audience_name = 'lapsed_win_back' order by customer_id""",
    )
    assert len(members) >= 20
    single_customer_keys = {
        key
        for (key,) in query(
            db,
            """select contact_point_value from intermediate.int_contact_points_mapped
            where contact_point_type = 'email_key' and customer_count = 1""",
        )
    }
    # a grant applies only when its email names one customer (README, consent)
    eligible = [
        (email,)
        for (email,) in query(
            db,
            """
            select customer.email
            from customer_360 as customer
            inner join intermediate.int_customer_activation_signals as signals
                on customer.customer_id = signals.customer_id
            where customer.purchase_count >= 2
                and signals.days_since_last_purchase between 180 and 730
                and not customer.has_email_consent and customer.email is not null
            order by customer.email
            """,
        )
        if email_match_key(email) in single_customer_keys
    ]
    swap = min(len(eligible), len(members) * 6 // 10)
    assert swap > len(members) // 2, "the generated data should hold enough eligible customers"
    result, after = rebuild_from_second(
        builds,
        "churn",
        [revoke(f"K-churn-out-{i}", email) for i, (_, email) in enumerate(members[:swap])]
        + [
            revoke(f"K-churn-in-{i}", email, status="granted")
            for i, (email,) in enumerate(eligible[:swap])
        ],
    )
    assert result.returncode != 0
    assert "audience lapsed_win_back would go from" in result.stdout
    assert "its members would churn by more than 0.5 of its size" in result.stdout
    assert logged_builds(after) == logged_builds(db)
    # the failure names the shares that let exactly this change through: more than half of
    # the members swapped is a churn above 1, and a build with those shares passes
    suggested = re.search(
        r"--vars '\{(audience_change_fail_share: [0-9.]+, audience_churn_fail_share: ([0-9.]+))\}'",
        result.stdout,
    )
    assert suggested, result.stdout[-3000:]
    assert float(suggested.group(2)) > 1
    accepted = dbt(
        "build",
        "--vars",
        f"{{as_of_date: '2026-01-01', {suggested.group(1)}}}",
        raw_path=after.parent / "raw",
        db_path=after,
        work_dir=after.parent,
    )
    assert accepted.returncode == 0, accepted.stdout[-3000:]
    assert logged_builds(after) == logged_builds(db) + 1


def test_a_small_audience_emptied_fails_the_build(builds: dict) -> None:
    db = builds["second"]
    sizes = dict(query(db, "select audience_name, count(*) from audience_membership group by all"))
    small = min(
        (name for name, size in sizes.items() if name in EMAIL_AUDIENCES and 0 < size < 20),
        key=sizes.get,
        default=None,
    )
    assert small, f"an email audience under 20 members is needed: {sizes}"
    emails = query(
        db,
        f"select email from audience_membership where audience_name = '{small}' order by 1",
    )
    result, after = rebuild_from_second(
        builds, "emptied", [revoke(f"K-empty-{i}", email) for i, (email,) in enumerate(emails)]
    )
    assert result.returncode != 0
    assert f"audience {small} would go from {sizes[small]} to 0 members" in result.stdout
    assert "it would be emptied" in result.stdout
    assert logged_builds(after) == logged_builds(db)


def test_hashes_are_sha256_of_each_destinations_normal_form(builds: dict) -> None:
    rows = query(
        builds["first"],
        """select email, email_sha256, email_sha256_google, phone_e164, phone_sha256,
            phone_sha256_digits from audience_membership""",
    )
    gmail_with_dots = 0
    for email, email_hash, google_hash, phone, phone_hash, digits_hash in rows:
        assert email_hash == (hashlib.sha256(email.encode()).hexdigest() if email else None)
        if email:
            local, domain = email.split("@")
            google = f"{local.replace('.', '')}@{domain}" if domain in GOOGLE_DOMAINS else email
            gmail_with_dots += google != email
            assert google_hash == hashlib.sha256(google.encode()).hexdigest()
        assert phone_hash == (hashlib.sha256(phone.encode()).hexdigest() if phone else None)
        assert digits_hash == (
            hashlib.sha256(phone.removeprefix("+").encode()).hexdigest() if phone else None
        )
    assert gmail_with_dots > 0


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_each_audience_exports_to_its_own_file(
    builds: dict, tmp_path: Path, file_format: str
) -> None:
    served = tmp_path / "serving" / "customer_360.duckdb"
    publish(builds["first"], served)
    written = export_audiences(served, tmp_path, file_format)
    for name, rows in written.items():
        path = tmp_path / f"{name}.{file_format}"
        reader = "read_csv" if file_format == "csv" else "read_parquet"
        assert duckdb.sql(f"select count(*) from {reader}('{path}')").fetchall()[0][0] == rows
    assert (
        sum(written.values())
        == query(builds["first"], "select count(*) from audience_membership")[0][0]
    )
    with pytest.raises(ValueError, match="No audience nope"):
        export_audiences(served, tmp_path, file_format, ["nope"])
