"""The churn model lifecycle end to end on the bundled sample: scores stay put across builds
unless a customer's own data changed, and a new model version is trained only when forced
(`make train-churn`), when the stored one is too old, or when it cannot be used.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_DIR, SAMPLE, SampleBuild, dbt, dbt_env, query

pytestmark = pytest.mark.integration

AUDIENCE = "high_value_at_risk"
# the models between the as-of date and the scores: enough to re-decide and re-score
CHURN_CHAIN = "int_as_of_date+,+int_churn_scores_predicted"


def append_rows(raw: Path, table: str, rows: list[dict]) -> None:
    path = raw / f"{table}.csv"
    with path.open(newline="") as handle:
        fields = next(csv.reader(handle))
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=fields, quoting=csv.QUOTE_ALL, lineterminator="\n"
        )
        writer.writerows([{field: row.get(field, "") for field in fields} for row in rows])


def read_rows(raw: Path, table: str) -> list[dict]:
    with (raw / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def change_some_customers(raw: Path, db: Path) -> dict:
    """What the issue did to the sample: 6 more person records, one order and one consent
    event, for a few existing customers, all dated before the as-of date (so it stays)."""
    as_of = query(db, "select as_of_date from intermediate.int_as_of_date")[0][0]
    buyer, shop_ids = query(
        db,
        f"""select customer_id, shop_record_ids from customer_360
        where customer_id in (select customer_id from audience_membership
                              where audience_name = '{AUDIENCE}')
            and len(shop_record_ids) > 0
        order by customer_id limit 1""",
    )[0]
    revoked_at = f"{as_of - dt.timedelta(days=1)} 12:00:00"
    revoker, email = query(
        db,
        f"""select customer_id, audience_membership.email
        from audience_membership
        inner join customer_360 using (customer_id)
        where audience_name = '{AUDIENCE}' and customer_id <> '{buyer}'
            and email_consent_updated_at < timestamp '{revoked_at}'
        order by customer_id limit 1""",
    )[0]
    day = (as_of - dt.timedelta(days=12)).isoformat()
    append_rows(
        raw,
        "shop_orders",
        [
            {
                "order_id": "O-test-stability",
                "customer_id": shop_ids[0],
                "status": "completed",
                "currency": "USD",
                "total_amount": "84.20",
                "ordered_at": f"{day} 10:00:00",
                "updated_at": f"{day} 10:00:00",
            }
        ],
    )
    append_rows(
        raw,
        "shop_order_items",
        [
            {
                "order_id": "O-test-stability",
                "line_number": "1",
                "sku": "SKU-1",
                "product_category": "beauty",
                "quantity": "1",
                "unit_price": "84.20",
            }
        ],
    )
    append_rows(
        raw,
        "consent_events",
        [
            {
                "event_id": "K-test-stability",
                "email": email,
                "channel": "email",
                "status": "revoked",
                "lawful_basis": "consent",
                "source_system": "preference_center",
                "recorded_at": revoked_at,
            }
        ],
    )
    # six more CRM records of existing contacts (a re-import with a new id and a new street)
    contacts = read_rows(raw, "crm_contacts")[100:106]
    append_rows(
        raw,
        "crm_contacts",
        [
            row | {"contact_id": f"C-test-{i}", "street_address": f"{i + 1} Elm St"}
            for i, row in enumerate(contacts)
        ],
    )
    return {"buyer": buyer, "revoker": revoker}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, sample_build: SampleBuild) -> dict:
    """The sample built into a fresh warehouse (the session's build, copied), then changed a
    little and built again into the same warehouse (so the stored churn model is there), a
    copy kept after each."""
    work = tmp_path_factory.mktemp("churn_lifecycle")
    raw = work / "raw"
    shutil.copytree(SAMPLE, raw)
    db = work / "warehouse.duckdb"
    shutil.copyfile(sample_build.db, db)
    shutil.copyfile(db, work / "first.duckdb")
    changed = change_some_customers(raw, db)
    second = dbt("build", raw_path=raw, db_path=db, work_dir=work / "second")
    assert second.returncode == 0, second.stdout[-4000:]
    shutil.copyfile(db, work / "second.duckdb")
    return {
        "work": work,
        "raw": raw,
        "db": db,
        "first": work / "first.duckdb",
        "second": work / "second.duckdb",
        "first_log": sample_build.log,
        "second_log": second.stdout,
        **changed,
    }


def compare(first: Path, second: Path, sql: str) -> list[tuple]:
    """Run `sql` with the two warehouses attached as a and b."""
    with duckdb.connect() as con:
        con.sql(f"attach '{first}' as a (read_only)")
        con.sql(f"attach '{second}' as b (read_only)")
        return con.sql(sql).fetchall()


LATEST_FEATURES = """
    select * exclude (churn_feature_id) from {db}.main.churn_features
    where snapshot_date = (select max(snapshot_date) from {db}.main.churn_features)
"""
PROFILE = """
    select * exclude (churn_probability, churn_risk_band, churn_top_drivers)
    from {db}.main.customer_360
"""


def changed_customers(builds: dict, relation: str) -> set[str]:
    """Customers whose rows of `relation` (a query over {db}) differ between the builds,
    or who are in only one of them."""
    a, b = relation.format(db="a"), relation.format(db="b")
    rows = compare(
        builds["first"],
        builds["second"],
        f"select customer_id from (({a}) except ({b})) union "
        f"select customer_id from (({b}) except ({a}))",
    )
    return {customer for (customer,) in rows}


def test_scores_stay_exactly_unless_the_customer_own_features_changed(builds: dict) -> None:
    moved = changed_customers(builds, LATEST_FEATURES)
    # the changes reached the churn features of the customers they were made for
    assert {builds["buyer"], builds["revoker"]} <= moved
    kept = compare(
        builds["first"],
        builds["second"],
        f"select count(*) from (({LATEST_FEATURES.format(db='a')})"
        f" intersect ({LATEST_FEATURES.format(db='b')}))",
    )[0][0]
    assert kept > 1000  # nearly every scored customer's features are as they were
    differing = compare(
        builds["first"],
        builds["second"],
        f"""
        with unchanged as (
            select customer_id from (({LATEST_FEATURES.format(db="a")})
                intersect ({LATEST_FEATURES.format(db="b")}))
        )
        select a.customer_id
        from a.main.customer_churn_scores as a
        inner join unchanged using (customer_id)
        left join b.main.customer_churn_scores as b using (customer_id)
        where b.customer_id is null
            or (a.churn_probability, a.churn_risk_band, a.driver_1, a.driver_2, a.driver_3,
                a.top_drivers)
            is distinct from (b.churn_probability, b.churn_risk_band, b.driver_1, b.driver_2,
                b.driver_3, b.top_drivers)
        """,
    )
    assert differing == [], f"{len(differing)} customers with unchanged features got new scores"


def test_the_audience_moves_only_for_customers_whose_data_changed(builds: dict) -> None:
    members = (
        "select customer_id from {db}.main.audience_membership"
        f" where audience_name = '{AUDIENCE}'"
    )
    churned = changed_customers(builds, members)
    assert builds["revoker"] in churned  # revoking email consent takes them out
    changed = changed_customers(builds, LATEST_FEATURES) | changed_customers(builds, PROFILE)
    assert churned - changed == set(), "members added or removed with none of their data changed"


def test_a_fresh_warehouse_trains_once_and_the_rebuild_only_scores(builds: dict) -> None:
    for db in (builds["first"], builds["second"]):
        versions = query(
            db,
            "select churn_model_version, training_reason, training_as_of_date "
            "from intermediate.int_churn_models_trained",
        )
        assert versions == [(1, "no stored version trained as of 2026-01-01 or earlier",
                             dt.date(2026, 1, 1))]  # fmt: skip
        assert query(db, "select distinct churn_model_version from customer_churn_scores") == [(1,)]
    assert "churn model version 1 trained: no stored version" in builds["first_log"]
    assert (
        "version 1 is 0 days old, within churn_max_model_age_days (30): loaded, not"
        in (builds["second_log"])
    )
    metrics = query(
        builds["second"],
        "select distinct churn_model_version, training_as_of_date from churn_model_metrics",
    )
    assert metrics == [(1, dt.date(2026, 1, 1))]
    leftovers = query(
        builds["second"],
        "select table_name from information_schema.tables where table_name like '%dbt_tmp%'",
    )
    assert leftovers == []  # the incremental Python model's staging tables are dropped


def run_chain(builds: dict, db: Path, *args: str) -> subprocess.CompletedProcess:
    """`dbt run` of the models from the as-of date to the scores, on `db`."""
    return dbt(
        "run",
        "--select",
        CHURN_CHAIN,
        *args,
        raw_path=builds["raw"],
        db_path=db,
        work_dir=builds["work"] / f"run_{db.stem}",
    )


@pytest.fixture(scope="module")
def trained(builds: dict) -> dict:
    """`make train-churn` on the second warehouse: a full build that must train version 2."""
    db = builds["work"] / "trained.duckdb"
    shutil.copyfile(builds["second"], db)
    env = dbt_env(builds["raw"], db, builds["work"] / "train_churn") | {
        "C360_SERVING_PATH": str(builds["work"] / "serving" / "customer_360.duckdb"),
        "MAKEFLAGS": "",
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "train-churn"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return {"db": db, "log": result.stdout, "serving": Path(env["C360_SERVING_PATH"])}


def test_make_train_churn_stores_a_new_version_and_the_scores_record_it(
    builds: dict, trained: dict
) -> None:
    db = trained["db"]
    versions = query(
        db,
        "select churn_model_version, training_reason from intermediate.int_churn_models_trained "
        "order by 1",
    )
    assert [v for v, _ in versions] == [1, 2]
    assert versions[1][1] == "forced (churn_train_new_model, `make train-churn`)"
    assert "churn model version 2 trained: forced" in trained["log"]
    for checked in (db, trained["serving"]):  # the build and the published copy
        assert query(checked, "select distinct churn_model_version from customer_churn_scores") == [
            (2,)
        ]
        assert query(checked, "select distinct churn_model_version from churn_model_metrics") == [
            (2,)
        ]
    # version 2 learnt from the changed exports: scoring with it moved customers whose own
    # data did not change, which is why a new version is a scheduled, visible event
    rescored = compare(
        builds["second"],
        db,
        """select count(*) from a.main.customer_churn_scores as a
        inner join b.main.customer_churn_scores as b using (customer_id)
        where a.churn_probability <> b.churn_probability""",
    )[0][0]
    assert rescored > 100


def later(days: int) -> str:
    return (dt.date(2026, 1, 1) + dt.timedelta(days=days)).isoformat()


def test_an_expired_version_is_retrained_and_old_exports_keep_theirs(
    builds: dict, trained: dict
) -> None:
    db = builds["work"] / "expiry.duckdb"
    shutil.copyfile(trained["db"], db)

    def run(as_of: str, *extra: str) -> subprocess.CompletedProcess:
        result = run_chain(builds, db, "--vars", f"{{as_of_date: '{as_of}'}}", *extra)
        assert result.returncode == 0, result.stdout[-4000:]
        return result

    def versions() -> list[tuple]:
        return query(
            db,
            "select churn_model_version, training_as_of_date "
            "from intermediate.int_churn_models_trained order by 1",
        )

    def scored_with() -> list[tuple]:
        return query(
            db, "select distinct churn_model_version from intermediate.int_churn_scores_predicted"
        )

    assert "version 2 is 30 days old, within" in run(later(30)).stdout
    assert len(versions()) == 2
    result = run(later(31), "--full-refresh")  # the registry survives a full refresh
    assert "version 3 trained: version 2 is 31 days old (trained as of 2026-01-01), over " in (
        result.stdout
    )
    assert versions()[-1] == (3, dt.date.fromisoformat(later(31)))
    assert scored_with() == [(3,)] and query(
        db, "select count(*) from intermediate.int_churn_models_trained"
    ) == [(3,)]
    # rebuilding the original exports scores them with the version they had, untrained,
    # into exactly the scores they had
    result = run("2026-01-01")
    assert "version 2 is 0 days old" in result.stdout and len(versions()) == 3
    assert scored_with() == [(2,)]
    scores = "select * from {db}.intermediate.int_churn_scores_predicted"
    assert compare(
        trained["db"],
        db,
        f"select count(*) from (({scores.format(db='a')}) except ({scores.format(db='b')}))",
    ) == [(0,)]
    older_limit = f"{{churn_max_model_age_days: 40, as_of_date: '{later(35)}'}}"
    result = run_chain(builds, db, "--vars", older_limit)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "version 3 is 4 days old" in result.stdout


def test_a_damaged_version_fails_the_build_and_an_old_scikit_learn_retrains(
    builds: dict,
) -> None:
    db = builds["work"] / "damaged.duckdb"
    shutil.copyfile(builds["second"], db)
    with duckdb.connect(str(db)) as con:
        con.sql(
            "update intermediate.int_churn_models_trained "
            "set model_blob = model_blob || '\\x00'::blob where churn_model_version = 1"
        )
    result = run_chain(builds, db)
    assert result.returncode != 0
    assert "churn model version 1 is unreadable: its checksum does not match" in result.stdout
    assert "make train-churn" in result.stdout
    with duckdb.connect(str(db)) as con:
        con.sql(
            "update intermediate.int_churn_models_trained set sklearn_version = '1.0.2' "
            "where churn_model_version = 1"
        )
    result = run_chain(builds, db)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "version 2 trained: version 1 cannot be used: stored by scikit-learn 1.0.2" in (
        result.stdout
    )
    assert query(
        db, "select distinct churn_model_version from intermediate.int_churn_scores_predicted"
    ) == [(2,)]
