"""Subject-access export: everything held about a person, across sources, in one JSON file.

    python -m c360.privacy.access_export --db target/customer_360.duckdb \
        --email jane@example.com [--phone "+1 212 555 0100"] [--customer-id ID] --out sar.json

The email (by match key, as staging computes it) and phone (E.164) are looked up in the
complete identity graph (`intermediate.int_contact_points_mapped`), so an old email finds the
person too. The file holds the customer's `customer_360` row and, per raw table, every staging
row tied to the customer: the contracted mart `privacy.privacy_customer_records` says which
records (person records, retired CRM contacts, orders and order lines, POS sales, web events of
their accounts and devices, email, consent and privacy events) and how each is tied; the rows
themselves are read from staging. Erasure requests come from `privacy_erasure_manifest`. It
runs on the build warehouse: the published file holds neither staging nor the privacy schema.

- An identifier several customers carry (a household email) would disclose someone else's
  data: the export refuses and lists the candidate customer ids; rerun with --customer-id
  once the requester's identity is verified.
- Records tied to the customer only through a shared identifier (a receipt sent to the
  household email) may be another person's: they are withheld and counted.
- A customer with an erasure request is gone from the marts (no customer_360 row), but the
  staging rows still exist until they are deleted upstream: the export shows them, with the
  erasure requests, because that is what is still held.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import os
from pathlib import Path
from typing import Any

import duckdb

from c360.phones import to_e164
from c360.privacy.identifiers import email_match_key, normalize_email

# Where dbt puts things (macros/generate_schema_name.sql: custom schemas used as named).
MARTS_SCHEMA = "main"
PRIVACY_SCHEMA = "privacy"
INTERMEDIATE_SCHEMA = "intermediate"
STAGING_SCHEMA = "staging"

# Raw table (privacy_customer_records.source_table) -> its staging model and key column.
STAGING_TABLES: dict[str, tuple[str, str]] = {
    "crm_contacts": ("stg_crm__contacts", "contact_id"),
    "shop_customers": ("stg_shop__customers", "customer_id"),
    "shop_orders": ("stg_shop__orders", "order_id"),
    "shop_order_items": ("stg_shop__order_items", "order_item_id"),
    "pos_transactions": ("stg_pos__transactions", "transaction_id"),
    "loyalty_members": ("stg_loyalty__members", "member_id"),
    "support_tickets": ("stg_support__tickets", "ticket_id"),
    "web_events": ("stg_web__events", "event_id"),
    "email_events": ("stg_email__events", "event_id"),
    "consent_events": ("stg_consent__events", "event_id"),
    "privacy_requests": ("stg_privacy__requests", "request_id"),
}


class SubjectNotFoundError(LookupError):
    """No customer carries the requested email or phone."""


class AmbiguousSubjectError(LookupError):
    """The requested identifiers name several customers; the export needs --customer-id."""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    relation = con.execute(sql, params or [])
    names = [column[0] for column in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def resolve_customers(
    con: duckdb.DuckDBPyConnection, email_key: str | None, phone_e164: str | None
) -> list[str]:
    """Customer ids carrying the email match key or the E.164 phone (sorted)."""
    rows = con.execute(
        f"""
        select distinct customer_id
        from {INTERMEDIATE_SCHEMA}.int_contact_points_mapped
        where (contact_point_type = 'email_key' and contact_point_value = $email_key)
            or (contact_point_type = 'phone_e164' and contact_point_value = $phone_e164)
        order by customer_id
        """,
        {"email_key": email_key, "phone_e164": phone_e164},
    ).fetchall()
    return [row[0] for row in rows]


def build_export(
    db_path: Path,
    email: str | None = None,
    phone: str | None = None,
    customer_id: str | None = None,
    default_region: str | None = None,
) -> dict:
    """Everything held about the person named by `email`/`phone`, as a JSON-ready dict."""
    if not email and not phone:
        raise ValueError("Give an email or a phone (or both) to look the person up by")
    if not Path(db_path).is_file():
        raise FileNotFoundError(f"No warehouse at {db_path}: run `make build` first")
    region = default_region or os.environ.get("C360_DEFAULT_PHONE_REGION", "US")
    email_normalized = normalize_email(email)
    email_key = email_match_key(email_normalized)
    phone_e164 = to_e164(phone, region) if phone else None
    if email and email_key is None and phone_e164 is None:
        raise ValueError(f"{email!r} is not an email address (expected local@domain.tld)")
    if phone and phone_e164 is None and email_key is None:
        raise ValueError(f"{phone!r} is not a phone number (default region {region})")

    with duckdb.connect(str(db_path), read_only=True) as con:
        candidates = resolve_customers(con, email_key, phone_e164)
        if not candidates:
            raise SubjectNotFoundError(
                f"No customer in {db_path} carries "
                + " or ".join(
                    part
                    for part in (
                        email and f"email {email_normalized or email!r} (match key {email_key})",
                        phone and f"phone {phone_e164 or phone!r}",
                    )
                    if part
                )
                + ": no person record holds these identifiers"
            )
        if customer_id is not None:
            if customer_id not in candidates:
                raise SubjectNotFoundError(
                    f"Customer {customer_id} does not carry these identifiers; "
                    f"they name: {', '.join(candidates)}"
                )
            customers = [customer_id]
        elif len(candidates) > 1:
            raise AmbiguousSubjectError(
                f"These identifiers are shared by {len(candidates)} customers "
                f"({', '.join(candidates)}); exporting them all would disclose other people's "
                "data. Verify the requester and rerun with --customer-id"
            )
        else:
            customers = candidates

        # customer_id compared with values, not joined to a list: a filter reaches the
        # customer's link keys through the mart's views, a join would link every customer
        links = _rows(
            con,
            f"""
            select customer_id, source_system, source_table, source_record_id,
                record_kind, linked_by, is_shared_link
            from {PRIVACY_SCHEMA}.privacy_customer_records
            where customer_id in ({", ".join("?" for _ in customers)})
            order by source_table, source_record_id
            """,
            customers,
        )
        held = [link for link in links if not link["is_shared_link"]]
        sources: dict[str, list[dict]] = {}
        for source_table, (model, key) in STAGING_TABLES.items():
            table_links = {
                link["source_record_id"]: link
                for link in held
                if link["source_table"] == source_table
            }
            if not table_links:
                continue
            records = _rows(
                con,
                f"select * from {STAGING_SCHEMA}.{model} where {key} in (select unnest($1)) "
                f"order by {key}",
                [sorted(table_links)],
            )
            sources[source_table] = [
                {
                    "source_system": table_links[record[key]]["source_system"],
                    "source_record_id": record[key],
                    "record_kind": table_links[record[key]]["record_kind"],
                    "linked_by": table_links[record[key]]["linked_by"],
                    "record": record,
                }
                for record in records
            ]

        profiles = {
            row["customer_id"]: row
            for row in _rows(
                con,
                f"select * from {MARTS_SCHEMA}.customer_360 "
                "where customer_id in (select unnest($1))",
                [customers],
            )
        }
        # the manifest lists every (request, customer) pair: a customer always has records
        erasures = _rows(
            con,
            f"""
            select distinct customer_id, request_id, request_status, matched_by,
                request_received_at
            from {MARTS_SCHEMA}.privacy_erasure_manifest
            where customer_id in (select unnest($1))
            order by request_received_at, request_id
            """,
            [customers],
        )

    return {
        "subject": {
            "email": email_normalized,
            "email_key": email_key,
            "phone_e164": phone_e164,
        },
        "warehouse": str(db_path),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "customers": [
            {
                "customer_id": customer,
                "is_erased": any(e["customer_id"] == customer for e in erasures),
                "erasure_requests": [e for e in erasures if e["customer_id"] == customer],
                "customer_360": profiles.get(customer),
            }
            for customer in customers
        ],
        "source_systems": sorted(
            {entry["source_system"] for rows in sources.values() for entry in rows}
        ),
        "record_counts": {table: len(rows) for table, rows in sources.items()},
        "sources": sources,
        "withheld": {
            "records_tied_only_by_shared_identifier": len(links) - len(held),
            "reason": "tied to the customer only through an email, card or device other "
            "customers share; they may be another person's",
        },
    }


def write_export(export: dict, out: Path) -> Path:
    """Write the export as indented JSON (dates ISO 8601); returns the path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(export, indent=2, default=_json_value, ensure_ascii=False) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the built warehouse")
    parser.add_argument("--email", help="the requester's email (an old one works too)")
    parser.add_argument("--phone", help="the requester's phone, any format")
    parser.add_argument("--customer-id", help="choose among customers sharing the identifiers")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    args = parser.parse_args(argv)
    try:
        export = build_export(args.db, args.email, args.phone, args.customer_id)
    except (LookupError, ValueError, FileNotFoundError) as error:
        raise SystemExit(f"access export: {error}") from error
    path = write_export(export, args.out)
    counts = ", ".join(f"{table} {n}" for table, n in export["record_counts"].items())
    print(
        f"wrote {path}: customer {', '.join(c['customer_id'] for c in export['customers'])}; "
        f"{counts}"
    )


if __name__ == "__main__":
    main()
