"""Privacy end to end on generated data: an erasure request made with one email removes the
whole resolved customer from every mart and lists all their records in the manifest; the
subject-access export covers every source; the masked 360 shows no raw PII.

Two builds of the same 600 generated persons: the base, then the same exports with crafted
erasure requests appended (privacy requests are not person records, so identity resolution and
customer ids are the same in both).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from c360.datagen import generate
from c360.masking import keyed_hash
from c360.privacy import email_match_key, normalize_email
from c360.privacy.access_export import (
    STAGING_TABLES,
    AmbiguousSubjectError,
    SubjectNotFoundError,
    build_export,
    main,
    write_export,
)
from c360.publish import publish
from conftest import MASKING_KEY, dbt_build, query

pytestmark = pytest.mark.integration

PERSONS = 600
SEED = 17  # own data: the sample uses 42, identity 11, customer 360 13
ERASE_ONE_EMAIL = "R_TEST_ERASE_ONE_EMAIL"
ERASE_SHARED_EMAIL = "R_TEST_ERASE_SHARED_EMAIL"
ERASE_DEVICE_SHARER = "R_TEST_ERASE_DEVICE_SHARER"

# Every mart column naming a customer, and the mart it is in.
CUSTOMER_COLUMNS = [
    ("customer_360", "customer_id"),
    ("customer_360_masked", "customer_id"),
    ("customer_identifiers", "customer_id"),
    ("customer_identity_edges", "customer_id"),
    ("identity_review_queue", "customer_id_l"),
    ("identity_review_queue", "customer_id_r"),
    ("customer_timeline", "customer_id"),
    ("unified_orders", "customer_id"),
    ("churn_features", "customer_id"),
    ("customer_churn_scores", "customer_id"),
    ("customer_value_segments", "customer_id"),
    ("audience_membership", "customer_id"),
]


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("raw_privacy") / "raw"
    generate(PERSONS, SEED, out, "csv")
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, raw: Path) -> Path:
    work = tmp_path_factory.mktemp("base_privacy")
    return dbt_build(raw, work / "warehouse.duckdb", work)


@pytest.fixture(scope="module")
def target(base: Path) -> dict:
    """A customer of the base build, not already erased, with records in several sources that
    carry at least two different emails, and one email of theirs that no one else carries."""
    rows = query(
        base,
        """
        with records as (
            select ids.customer_id, ids.source_system, ids.source_record_id, pr.email,
                pr.email_key
            from customer_identifiers as ids
            inner join intermediate.int_person_records_unioned as pr
                on ids.person_record_id = pr.person_record_id
        ),
        candidates as (
            select customer_id
            from records
            group by customer_id
            having count(distinct email_key) >= 2 and count(distinct source_system) >= 2
        )
        select records.customer_id, records.email, records.source_system,
            records.source_record_id
        from records
        inner join candidates on records.customer_id = candidates.customer_id
        inner join intermediate.int_contact_points_mapped as cp
            on cp.contact_point_type = 'email_key' and cp.contact_point_value = records.email_key
        where cp.customer_count = 1
        order by records.customer_id, records.source_system, records.source_record_id
        limit 1
        """,
    )
    assert rows, "the generated data should hold a multi-email, multi-source customer"
    customer_id, email, source_system, source_record_id = rows[0]
    return {
        "customer_id": customer_id,
        "email": email,
        "record": (source_system, source_record_id),
    }


@pytest.fixture(scope="module")
def shared(base: Path, target: dict) -> dict:
    """An email carried by several customers (a household), none of them the target."""
    rows = query(
        base,
        f"""
        select contact_point_value, list(customer_id order by customer_id)
        from intermediate.int_contact_points_mapped
        where contact_point_type = 'email_key' and customer_count > 1
        group by contact_point_value
        having not list_contains(list(customer_id), '{target["customer_id"]}')
        order by contact_point_value
        limit 1
        """,
    )
    assert rows, "the generator plants household emails; one should be shared"
    return {"email_key": rows[0][0], "customer_ids": rows[0][1]}


@pytest.fixture(scope="module")
def device_sharer(base: Path, target: dict, shared: dict) -> dict:
    """A customer with an email of their own and a device with anonymous browsing, and a
    relative: another customer, who stays, whose shop account the erased build logs in on
    that device (a family computer)."""
    kept = ", ".join(f"'{c}'" for c in (target["customer_id"], *shared["customer_ids"]))
    rows = query(
        base,
        f"""
        with own_emails as (
            select customer_id, min(contact_point_value) as email_key
            from intermediate.int_contact_points_mapped
            where contact_point_type = 'email_key' and customer_count = 1
            group by customer_id
        ),
        browsed as (
            select anonymous_id, min(occurred_at) as first_seen_at
            from staging.stg_web__events
            where customer_id is null and occurred_at is not null
            group by anonymous_id
        ),
        own_accounts as (
            select customer_id, min(contact_point_value) as shop_customer_id
            from intermediate.int_contact_points_mapped
            where contact_point_type = 'shop_customer_id' and customer_count = 1
            group by customer_id
        )
        select devices.customer_id, own_emails.email_key, devices.anonymous_id,
            browsed.first_seen_at, relative.customer_id, relative.shop_customer_id
        from intermediate.int_customer_devices_counted as devices
        inner join own_emails on devices.customer_id = own_emails.customer_id
        inner join browsed on devices.anonymous_id = browsed.anonymous_id
        inner join own_accounts as relative
            on relative.customer_id != devices.customer_id
        where devices.device_customers = 1
            and devices.customer_id not in ({kept}) and relative.customer_id not in ({kept})
        order by devices.customer_id, devices.anonymous_id, relative.customer_id
        limit 1
        """,
    )
    assert rows, "the generated data should hold a device with browsing and a second account"
    customer_id, email_key, anonymous_id, first_seen_at, relative_id, relative_account = rows[0]
    return {
        "customer_id": customer_id,
        "email_key": email_key,
        "anonymous_id": anonymous_id,
        "first_seen_at": first_seen_at,
        "relative": relative_id,
        "relative_account": relative_account,
    }


@pytest.fixture(scope="module")
def erased(
    tmp_path_factory: pytest.TempPathFactory,
    raw: Path,
    target: dict,
    shared: dict,
    device_sharer: dict,
) -> Path:
    """The same exports plus three erasure requests: one made with one email of the target
    (typed with stray case and spaces), one with a shared household email, one with the email
    of a customer whose device a relative, who stays, logs in on (one web event added)."""
    work = tmp_path_factory.mktemp("erased_privacy")
    crafted = work / "raw"
    shutil.copytree(raw, crafted)
    requests = crafted / "privacy_requests.csv"
    text = requests.read_text()
    with open(requests, "a", newline="") as handle:
        if not text.endswith("\n"):
            handle.write("\n")
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(
            [
                ERASE_ONE_EMAIL,
                "erasure",
                f"  {target['email'].upper()} ",
                "",
                "2025-12-01 10:00:00",
                "received",
            ]
        )
        writer.writerow(
            [
                ERASE_SHARED_EMAIL,
                "erasure",
                shared["email_key"],
                "",
                "2025-12-02 10:00:00",
                "received",
            ]
        )
        writer.writerow(
            [
                ERASE_DEVICE_SHARER,
                "erasure",
                device_sharer["email_key"],
                "",
                "2025-12-03 10:00:00",
                "received",
            ]
        )
    events = crafted / "web_events.csv"
    text = events.read_text()
    with open(events, "a", newline="") as handle:
        if not text.endswith("\n"):
            handle.write("\n")
        # at the device's first browsing time, so the data's time span (and as-of date) stays
        seen_at = device_sharer["first_seen_at"].strftime("%Y-%m-%d %H:%M:%S")
        handle.write(
            f'"W_TEST_RELATIVE_LOGIN","{device_sharer["anonymous_id"]}",'
            f'"{device_sharer["relative_account"]}","login","/login",,"{seen_at}"\n'
        )
    return dbt_build(crafted, work / "warehouse.duckdb", work)


def customer_records(db: Path, customer_id: str) -> set[tuple[str, str]]:
    """(source_system, source_record_id) of every person record of the customer in the
    complete identity graph of a build."""
    return set(
        query(
            db,
            f"""
            select pr.source_system, pr.source_record_id
            from intermediate.int_person_records_customer_ids as clustered
            inner join intermediate.int_person_records_unioned as pr
                on clustered.person_record_id = pr.person_record_id
            where clustered.customer_id = '{customer_id}'
            """,
        )
    )


def test_the_target_is_visible_before_the_request(base: Path, target: dict) -> None:
    for mart in ("customer_360", "customer_identifiers", "customer_360_masked"):
        (count,) = query(
            base,
            f"select count(*) from {mart} where customer_id = ?".replace(
                "?", f"'{target['customer_id']}'"
            ),
        )[0]
        assert count > 0, mart


def test_erasure_with_one_email_resolves_to_the_whole_customer(erased: Path, target: dict) -> None:
    rows = query(
        erased,
        f"""
        select customer_id, matched_by, is_ambiguous_request
        from intermediate.int_erased_customers where request_id = '{ERASE_ONE_EMAIL}'
        """,
    )
    assert rows == [(target["customer_id"], "email_key", False)]
    emails = query(
        erased,
        f"""
        select count(distinct pr.email_key)
        from intermediate.int_person_records_customer_ids as clustered
        inner join intermediate.int_person_records_unioned as pr
            on clustered.person_record_id = pr.person_record_id
        where clustered.customer_id = '{target["customer_id"]}'
        """,
    )[0][0]
    assert emails >= 2, "the customer's other records carry a different email"


def test_erased_customers_are_gone_from_every_mart(
    erased: Path, target: dict, shared: dict
) -> None:
    gone = [target["customer_id"], *shared["customer_ids"]]
    ids = ", ".join(f"'{customer}'" for customer in gone)
    for mart, column in CUSTOMER_COLUMNS:
        (count,) = query(erased, f"select count(*) from {mart} where {column} in ({ids})")[0]
        assert count == 0, f"{mart}.{column} still names an erased customer"


def test_erased_customers_are_in_no_audience_file(
    erased: Path, target: dict, shared: dict, tmp_path: Path
) -> None:
    from c360.activation.export import export_audiences

    # audiences are exported from the published copy only
    served = publish(erased, tmp_path / "serving" / "customer_360.duckdb")
    written = export_audiences(served, tmp_path / "audiences", "csv")
    assert written, "the build declares audiences"
    gone = {target["customer_id"], *shared["customer_ids"]}
    for name in written:
        exported = duckdb.sql(
            "select customer_id from "
            f"read_csv('{tmp_path / 'audiences' / name}.csv', all_varchar = true)"
        ).fetchall()
        assert gone.isdisjoint(customer for (customer,) in exported), name


def test_orders_stay_anonymised_and_revenue_stays_true(
    base: Path, erased: Path, target: dict
) -> None:
    totals = "select count(*), round(sum(net_revenue), 2) from unified_orders"
    assert query(base, totals) == query(erased, totals)
    before = query(
        base,
        f"select order_key from unified_orders where customer_id = '{target['customer_id']}'",
    )
    if before:
        keys = ", ".join(f"'{key}'" for (key,) in before)
        after = query(
            erased,
            f"select count(*), count(customer_id), count(attributed_by) from unified_orders "
            f"where order_key in ({keys})",
        )
        assert after == [(len(before), 0, 0)]


def test_manifest_lists_every_record_of_the_customer(
    base: Path, erased: Path, target: dict
) -> None:
    person_records = customer_records(erased, target["customer_id"])
    assert person_records == customer_records(base, target["customer_id"])
    assert target["record"] in person_records
    manifest = query(
        erased,
        f"""
        select source_system, source_table, source_record_id, record_kind, customer_id,
            request_received_at, needs_review
        from privacy_erasure_manifest where request_id = '{ERASE_ONE_EMAIL}'
        """,
    )
    assert {row[4] for row in manifest} == {target["customer_id"]}
    assert {str(row[5]) for row in manifest} == {"2025-12-01 10:00:00"}
    listed = {(row[0], row[2]) for row in manifest if row[3] == "person_record"}
    assert listed == person_records
    # records carrying another email than the request's are in it too
    other_email = query(
        erased,
        f"""
        select pr.source_system, pr.source_record_id
        from intermediate.int_person_records_unioned as pr
        where (pr.source_system, pr.source_record_id) in (
            select (source_system, source_record_id) from privacy_erasure_manifest
            where request_id = '{ERASE_ONE_EMAIL}')
            and pr.email_key is distinct from '{email_match_key(target["email"])}'
        """,
    )
    assert other_email
    # and so are the customer's orders and in-store sales of the base build
    orders = query(
        base,
        f"""
        select channel, source_order_id from unified_orders
        where customer_id = '{target["customer_id"]}'
        """,
    )
    listed_orders = {row[2] for row in manifest if row[1] in ("shop_orders", "pos_transactions")}
    assert {order_id for _, order_id in orders} <= listed_orders


def test_an_ambiguous_request_suppresses_every_customer_and_asks_for_review(
    erased: Path, shared: dict
) -> None:
    rows = query(
        erased,
        f"""
        select list(distinct customer_id order by customer_id), bool_and(needs_review), count(*)
        from privacy_erasure_manifest where request_id = '{ERASE_SHARED_EMAIL}'
        """,
    )
    assert rows[0][0] == sorted(shared["customer_ids"])
    assert rows[0][1] is True


def test_a_device_shared_with_someone_who_stays_is_listed_for_review(
    base: Path, erased: Path, device_sharer: dict
) -> None:
    """Device sharing is counted over every customer, not only the erased ones the manifest
    reads: once a relative logged in on the device, its anonymous browsing may be theirs."""
    browsing = f"""
        select event_id from staging.stg_web__events
        where customer_id is null and anonymous_id = '{device_sharer["anonymous_id"]}'
        order by event_id
    """
    listed = query(
        erased,
        f"""
        select source_record_id, is_shared_link, needs_review
        from privacy_erasure_manifest
        where request_id = '{ERASE_DEVICE_SHARER}' and linked_by = 'device_login'
            and source_record_id in ({browsing})
        order by source_record_id
        """,
    )
    assert [row[0] for row in listed] == [row[0] for row in query(erased, browsing)]
    assert {(row[1], row[2]) for row in listed} == {(True, True)}
    # the same browsing was the customer's alone before the relative's login
    (alone,) = query(
        base,
        f"""
        select bool_or(is_shared_link) from privacy.privacy_customer_records
        where customer_id = '{device_sharer["customer_id"]}' and source_record_id in ({browsing})
        """,
    )[0]
    assert alone is False
    (kept,) = query(
        erased,
        f"select count(*) from customer_360 where customer_id = '{device_sharer['relative']}'",
    )[0]
    assert kept == 1, "the relative was not erased"


def test_manifest_is_the_erased_customers_rows_of_the_records_mart(erased: Path) -> None:
    """is_erased_customer is exactly the customers of int_erased_customers, and the manifest,
    which reads the records through a filter on it, has every one of their records (the mart
    read here for every customer and then joined, the long way)."""
    flagged = query(
        erased,
        """
        select distinct customer_id from privacy.privacy_customer_records
        where is_erased_customer order by 1
        """,
    )
    assert flagged == query(
        erased, "select distinct customer_id from intermediate.int_erased_customers order by 1"
    )
    columns = "request_id, customer_id, source_table, source_record_id, linked_by, is_shared_link"
    long_way = f"""
        select {columns} from (
            select erased.request_id, records.*
            from intermediate.int_erased_customers as erased
            inner join (select * from privacy.privacy_customer_records) as records
                on erased.customer_id = records.customer_id
            where records.source_table != 'privacy_requests'
        )
    """
    manifest = f"select {columns} from privacy_erasure_manifest"
    assert query(erased, f"select count(*) from ({manifest})")[0][0] > 0
    assert query(erased, f"select count(*) from ({long_way} except all {manifest})") == [(0,)]
    assert query(erased, f"select count(*) from ({manifest} except all {long_way})") == [(0,)]


def test_records_mart_has_one_row_per_record_and_customer(base: Path) -> None:
    """The key of privacy_customer_records over every customer (dbt tests the key on the
    erased customers' rows only, in privacy_erasure_manifest: at scale the mart spans every
    record held), and every source table it names has a staging model the export reads."""
    duplicates = query(
        base,
        """
        select count(*) from (
            select customer_id, source_table, source_record_id
            from privacy.privacy_customer_records
            group by all having count(*) > 1
        )
        """,
    )
    assert duplicates == [(0,)]
    tables = query(base, "select distinct source_table from privacy.privacy_customer_records")
    assert len(tables) >= 10
    assert {table for (table,) in tables} <= set(STAGING_TABLES)


def test_records_mart_stays_in_the_build_warehouse(erased: Path, tmp_path: Path) -> None:
    """Every record of every customer, erased customers included, is for the privacy tools of
    the build warehouse: publishing leaves it out (and does not copy it into a table)."""
    (kind,) = query(
        erased,
        """
        select table_type from information_schema.tables
        where table_schema = 'privacy' and table_name = 'privacy_customer_records'
        """,
    )[0]
    assert kind == "VIEW"
    served = publish(erased, tmp_path / "serving.duckdb")
    published = query(
        served, "select table_schema, table_name from information_schema.tables order by 2"
    )
    names = {name for _, name in published}
    assert "privacy_erasure_manifest" in names
    assert "privacy_customer_records" not in names
    assert {schema for schema, _ in published} == {"main"}


def test_access_export_covers_every_source_of_the_customer(base: Path, tmp_path: Path) -> None:
    customer_id, email, systems = query(
        base,
        """
        select c.customer_id, c.email, c.source_systems
        from customer_360 as c
        inner join intermediate.int_contact_points_mapped as cp
            on cp.contact_point_type = 'email_key'
            and cp.contact_point_value = c.email
            and cp.customer_count = 1
        where len(c.source_systems) >= 3
        order by len(c.source_systems) desc, c.customer_id
        limit 1
        """,
    )[0]
    out = write_export(build_export(base, email=email), tmp_path / "sar.json")
    export = json.loads(out.read_text())
    assert [c["customer_id"] for c in export["customers"]] == [customer_id]
    assert export["customers"][0]["customer_360"]["customer_id"] == customer_id
    assert set(systems) <= set(export["source_systems"])
    exported = {
        (entry["source_system"], entry["source_record_id"])
        for rows in export["sources"].values()
        for entry in rows
        if entry["record_kind"] == "person_record"
    }
    assert exported == customer_records(base, customer_id)
    # every exported record is the full staging row, keyed as listed
    for rows in export["sources"].values():
        for entry in rows:
            assert entry["source_record_id"] in entry["record"].values()


def test_access_export_of_an_erased_customer_shows_what_is_still_held(
    erased: Path, target: dict, tmp_path: Path
) -> None:
    export = build_export(erased, email=target["email"])
    (customer,) = export["customers"]
    assert customer["customer_id"] == target["customer_id"]
    assert customer["is_erased"] is True
    assert customer["customer_360"] is None
    assert {r["request_id"] for r in customer["erasure_requests"]} >= {ERASE_ONE_EMAIL}
    exported = {
        (entry["source_system"], entry["source_record_id"])
        for rows in export["sources"].values()
        for entry in rows
        if entry["record_kind"] == "person_record"
    }
    assert exported == customer_records(erased, target["customer_id"])


def test_access_export_errors_clearly(base: Path, shared: dict, tmp_path: Path) -> None:
    with pytest.raises(SubjectNotFoundError, match="No customer"):
        build_export(base, email="nobody.at.all@example.invalid")
    with pytest.raises(AmbiguousSubjectError, match="--customer-id"):
        build_export(base, email=shared["email_key"])
    out = tmp_path / "x.json"
    chosen = build_export(base, email=shared["email_key"], customer_id=shared["customer_ids"][0])
    assert [c["customer_id"] for c in chosen["customers"]] == [shared["customer_ids"][0]]
    with pytest.raises(SystemExit, match="access export: No customer"):
        main(["--db", str(base), "--email", "nobody@example.invalid", "--out", str(out)])
    assert not out.exists()


def test_masked_360_exposes_no_raw_pii(base: Path) -> None:
    leaks = query(
        base,
        """
        with raw_values as (
            select email as value from customer_360 where email is not null
            union select phone_e164 from customer_360 where phone_e164 is not null
            union select last_name from customer_360 where last_name is not null
            union select street_address from customer_360 where street_address is not null
        ),
        masked_text as (
            select unnest([first_name, last_name, email, phone_e164, street_address, city,
                postal_code]) as value
            from customer_360_masked
            union all
            select unnest(emails) from customer_360_masked
            union all
            select unnest(phones) from customer_360_masked
        )
        select count(*) from masked_text where value in (select value from raw_values)
        """,
    )
    assert leaks == [(0,)]
    columns = """
        select column_name, data_type from information_schema.columns
        where table_schema = 'main' and table_name = '{}' order by ordinal_position
    """
    assert query(base, columns.format("customer_360_masked")) == query(
        base, columns.format("customer_360")
    )


def test_masked_360_cannot_be_reversed_by_guessing(base: Path) -> None:
    """Low-entropy fields are dropped or generalised; emails and phones are keyed (HMAC)
    pseudonyms that hashing a list of candidates cannot find, but that stay joinable."""
    rows = query(
        base,
        """
        select raw.email, raw.phone_e164, raw.postal_code, raw.birth_date, raw.emails,
            masked.email, masked.phone_e164, masked.postal_code, masked.birth_date, masked.emails,
            masked.first_name, masked.last_name, masked.street_address, masked.city
        from customer_360 as raw
        inner join customer_360_masked as masked on raw.customer_id = masked.customer_id
        """,
    )
    assert len(rows) > 100
    key = MASKING_KEY.encode()
    for (
        email,
        phone,
        postal,
        birth,
        emails,
        m_email,
        m_phone,
        m_postal,
        m_birth,
        m_emails,
        *dropped,
    ) in rows:
        assert dropped == [None, None, None, None]
        assert m_email == keyed_hash(email, key)
        assert m_phone == keyed_hash(phone, key)
        assert m_emails == ([keyed_hash(e, key) for e in emails] if emails is not None else None)
        assert m_postal == (postal[:3] if postal is not None else None)
        assert m_birth == (dt.date(birth.year, 1, 1) if birth is not None else None)
        # what an attacker with a list of candidates computes: not what is published
        if email is not None:
            assert m_email != hashlib.sha256(email.encode()).hexdigest()


def test_the_masking_key_is_never_written_to_target_or_logs(base: Path) -> None:
    work = base.parent
    files = [p for folder in ("target", "logs") for p in (work / folder).rglob("*") if p.is_file()]
    assert any(p.name == "manifest.json" for p in files)
    assert [p for p in files if MASKING_KEY.encode() in p.read_bytes()] == []


def test_python_email_key_matches_staging(base: Path) -> None:
    rows = query(
        base,
        """
        select email, email_key from staging.stg_crm__contacts where email is not null
        union all select email, email_key from staging.stg_shop__customers where email is not null
        union all select email, email_key from staging.stg_email__events where email is not null
        """,
    )
    assert rows
    mismatches = [
        (email, key)
        for email, key in rows
        if normalize_email(email) != email or email_match_key(email) != key
    ]
    assert mismatches == []


def test_email_normalisation_examples() -> None:
    assert normalize_email("  John.Doe+Shop@GMail.com ") == "john.doe+shop@gmail.com"
    assert email_match_key("john.doe+shop@gmail.com") == "johndoe@gmail.com"
    assert email_match_key("jo.hn+x@example.com") == "jo.hn@example.com"
    assert normalize_email("john at gmail") is None
    assert normalize_email("") is None
