"""Staging on crafted raw files: each contract rule, value by value, through real dbt builds."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, DbtRunner, dbt, dbt_build, project_copy, query

pytestmark = pytest.mark.integration
CRAFTED = FIXTURES / "crafted"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build every model and run every dbt test once on the crafted folder."""
    work = tmp_path_factory.mktemp("crafted")
    return dbt_build(CRAFTED, work / "crafted.duckdb", work)


def crm(db: Path, contact_id: str, column: str):
    return query(
        db, f"select {column} from staging.stg_crm__contacts where contact_id = '{contact_id}'"
    )[0][0]


def test_every_raw_row_is_kept(warehouse: Path) -> None:
    for table, model in [
        ("crm_contacts", "stg_crm__contacts"),
        ("shop_customers", "stg_shop__customers"),
        ("shop_orders", "stg_shop__orders"),
        ("support_tickets", "stg_support__tickets"),
        ("consent_events", "stg_consent__events"),
    ]:
        raw_rows = len((CRAFTED / f"{table}.csv").read_text().strip().splitlines()) - 1
        assert query(warehouse, f"select count(*) from staging.{model}")[0][0] == raw_rows, table


@pytest.mark.parametrize(
    ("contact_id", "expected"),
    [
        ("crm-1", dt.date(1990, 2, 13)),
        ("crm-2", dt.date(1990, 2, 13)),
        ("crm-3", dt.date(1990, 2, 13)),
        ("crm-5", dt.date(1985, 7, 4)),
    ],
)
def test_each_date_of_birth_format_parses(
    warehouse: Path, contact_id: str, expected: dt.date
) -> None:
    # crm-1 ISO, crm-2 US MM/DD/YYYY, crm-3 dotted DD.MM.YYYY, crm-5 ISO without zero padding
    assert crm(warehouse, contact_id, "birth_date") == expected


@pytest.mark.parametrize("contact_id", ["crm-4", "crm-6", "crm-7"])
def test_impossible_dates_are_null_and_counted(warehouse: Path, contact_id: str) -> None:
    # 31/02/1990, 00.00.0000, 2999-01-01: the row is kept, the value NULL, the flag set
    assert crm(warehouse, contact_id, "birth_date") is None
    assert crm(warehouse, contact_id, "dq_birth_date_unparseable") is True


@pytest.mark.parametrize(
    ("contact_id", "expected"),
    [
        ("crm-1", "+12125550100"),
        ("crm-5", "+12125550101"),
        ("crm-6", "+12125550102"),
        ("crm-7", "+12125550103"),
        ("crm-8", "+12125550104"),
        ("crm-9", "+12125550105"),
        ("crm-3", "+442079460958"),
    ],
)
def test_each_phone_format_normalises(warehouse: Path, contact_id: str, expected: str) -> None:
    assert crm(warehouse, contact_id, "phone_e164") == expected


def test_junk_seed_identifiers_are_nulled(warehouse: Path) -> None:
    assert crm(warehouse, "crm-2", "email") is None
    assert crm(warehouse, "crm-2", "phone_e164") is None
    assert crm(warehouse, "crm-2", "dq_email_junk") is True
    assert crm(warehouse, "crm-2", "dq_phone_junk") is True
    assert query(
        warehouse, "select guest_email from staging.stg_shop__orders where order_id = 'o-3'"
    ) == [(None,)]


def test_identifier_shared_by_many_people_is_junk_but_a_household_is_not(warehouse: Path) -> None:
    rows = dict(query(warehouse, "select customer_id, email from staging.stg_shop__customers"))
    # five strangers share receipts@store.example: junk; two of a family share one: kept
    assert [rows[f"shop-{i}"] for i in range(1, 6)] == [None] * 5
    assert rows["shop-6"] == rows["shop-7"] == "family@home.example"


def test_emails_names_and_addresses_are_standardised(warehouse: Path) -> None:
    assert crm(warehouse, "crm-1", "email") == "john.smith+shop@gmail.com"
    assert crm(warehouse, "crm-1", "email_key") == "johnsmith@gmail.com"
    assert crm(warehouse, "crm-1", "first_name") == "José"
    assert crm(warehouse, "crm-1", "first_name_key") == "jose"
    assert crm(warehouse, "crm-3", "first_name_key") == "lukasz"
    assert crm(warehouse, "crm-2", "first_name_canonical") == "robert"
    assert crm(warehouse, "crm-1", "street_key") == "12 main st"
    assert crm(warehouse, "crm-2", "street_key") == "5 oak ave"
    assert crm(warehouse, "crm-1", "postal_code") == "10001"


def test_booleans_in_every_spelling(warehouse: Path) -> None:
    rows = dict(
        query(warehouse, "select customer_id, accepts_marketing from staging.stg_shop__customers")
    )
    assert [rows[f"shop-{i}"] for i in range(1, 8)] == [True, False, True, False, True, False, True]
    assert crm(warehouse, "crm-4", "dq_is_deleted_unparseable") is True


def test_empty_table_builds(warehouse: Path) -> None:
    assert query(warehouse, "select count(*) from staging.stg_privacy__requests") == [(0,)]


def test_unparseable_values_are_counted(warehouse: Path) -> None:
    counts = {
        (table, column, issue): affected
        for table, column, issue, affected in query(
            warehouse,
            "select source_table, column_name, issue, affected_rows from source_data_quality",
        )
    }
    assert counts[("crm_contacts", "birth_date", "unparseable")] == 3
    assert counts[("crm_contacts", "email", "unparseable")] == 1
    assert counts[("shop_orders", "total_amount", "unparseable")] == 1
    assert counts[("shop_orders", "status", "unparseable")] == 1
    assert counts[("shop_customers", "email", "junk")] == 5
    assert counts[("privacy_requests", "email", "junk")] == 0
    # "x" as a line number, and a quantity of 1.5, which a cast would have rounded to 2
    assert counts[("shop_order_items", "line_number", "unparseable")] == 1
    assert counts[("shop_order_items", "quantity", "unparseable")] == 1


def test_a_fractional_count_is_null_not_rounded(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select line_number, quantity from staging.stg_shop__order_items "
        "where order_id = 'o-4' order by line_number",
    )
    assert rows == [(1, None), (2, 2)]


def test_missing_required_column_fails_naming_table_and_column(
    run_dbt: DbtRunner, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(CRAFTED, raw)
    lines = (raw / "loyalty_members.csv").read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("email")
    (raw / "loyalty_members.csv").write_text(
        "\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in lines)
        + "\n"
    )
    result = run_dbt("run", "--select", "stg_loyalty__members", raw_path=raw)
    assert result.returncode != 0
    assert "Raw table 'loyalty_members' is missing required column(s) email" in result.stdout


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (lambda line: line + ",extra", "line 3: more fields than the header has columns"),
        (
            lambda line: line.replace(",", ',"', 1),
            "line 3: a quote is opened and not closed, or a value after a closing quote",
        ),
    ],
    ids=["one-field-too-many", "unterminated-quote"],
)
def test_a_malformed_csv_line_fails_naming_the_line_and_what_is_wrong(
    run_dbt: DbtRunner, tmp_path: Path, broken, expected: str
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(CRAFTED, raw)
    path = raw / "loyalty_members.csv"
    lines = path.read_text().splitlines()
    lines[2] = broken(lines[2])
    path.write_text("\n".join(lines) + "\n")
    result = run_dbt("build", "--select", "+stg_loyalty__members", raw_path=raw)
    assert result.returncode != 0
    assert f"Raw file {path} has 1 line(s) that cannot be read" in result.stdout
    assert expected in result.stdout
    assert "missing required column" not in result.stdout
    # the fix offered never drops rows
    assert "ignore_errors" not in result.stdout
    assert "Nothing was skipped" in result.stdout


def test_a_failing_key_test_shows_the_duplicated_value(run_dbt: DbtRunner, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(CRAFTED, raw)
    path = raw / "loyalty_members.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")  # loy-1 twice
    result = run_dbt(
        "build",
        "--select",
        "+stg_loyalty__members",
        "--indirect-selection",
        "cautious",
        raw_path=raw,
    )
    assert result.returncode != 0
    assert "Test unique_stg_loyalty__members_member_id failed on 1 row(s)" in result.stdout
    assert "unique_field=loy-1, n_records=2" in result.stdout


def test_unknown_raw_format_fails_clearly(run_dbt: DbtRunner) -> None:
    result = run_dbt("run", "--select", "stg_web__events", raw_path=CRAFTED, raw_format="json")
    assert result.returncode != 0
    assert "C360_RAW_FORMAT must be 'csv' or 'parquet', got 'json'" in result.stdout


def test_junk_email_shared_by_strangers_links_none_of_them(warehouse: Path) -> None:
    customers = query(
        warehouse,
        "select count(distinct customer_id) from customer_identifiers"
        " where source_system = 'shop'"
        " and source_record_id in ('shop-1', 'shop-2', 'shop-3', 'shop-4', 'shop-5')",
    )[0][0]
    assert customers == 5


def customers_of_linked_records(db: Path) -> dict[str, str]:
    """customer_id of the crafted records the identity tests are about."""
    return dict(
        query(
            db,
            "select person_record_id, customer_id from customer_identifiers where person_record_id"
            " in ('crm:crm-11', 'loyalty:loy-1', 'shop:shop-6', 'shop:shop-7')",
        )
    )


def test_nickname_record_links_across_sources(warehouse: Path) -> None:
    # crm-11 "Bob Smith" and loyalty loy-1 "Robert Smith": same email, phone, birth date
    ids = customers_of_linked_records(warehouse)
    assert ids["crm:crm-11"] == ids["loyalty:loy-1"]
    # the Fox household shares email, phone and address but not first name or birthday
    assert ids["shop:shop-6"] != ids["shop:shop-7"]


def test_override_seeds_split_and_join_customers(tmp_path: Path) -> None:
    """The seeds reach the build: cannot-link splits a strong match, must-link joins a household."""
    project = project_copy(tmp_path)
    header = "record_id_a,record_id_b,reason,decided_by,decided_at\n"
    (project / "seeds" / "identity_cannot_link.csv").write_text(
        header + "crm:crm-11,loyalty:loy-1,reviewer says two people,test,2026-11-22\n"
    )
    (project / "seeds" / "identity_must_link.csv").write_text(
        header + "shop:shop-6,shop:shop-7,same person after all,test,2026-11-22\n"
    )
    db = tmp_path / "overrides.duckdb"
    result = dbt(
        "build",
        "--select",
        "+customer_identifiers",
        "--indirect-selection",
        "cautious",
        raw_path=CRAFTED,
        db_path=db,
        work_dir=tmp_path,
        project_dir=project,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    ids = customers_of_linked_records(db)
    assert ids["crm:crm-11"] != ids["loyalty:loy-1"]
    assert ids["shop:shop-6"] == ids["shop:shop-7"]
