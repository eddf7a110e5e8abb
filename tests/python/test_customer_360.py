"""Customer 360 and churn marts end to end on generated data: one real build, then one on
exports whose future (after a snapshot) was rewritten and with an edited survivorship seed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from c360.datagen import generate
from c360.publish import publish
from conftest import PROJECT_DIR, dbt, project_copy, query

pytestmark = pytest.mark.integration

PERSONS = 600
SEED = 13  # the bundled sample uses 42, the identity tests 11; keep this module on its own data
AS_OF = "2026-01-01"  # the generator's default as-of date, pinned so both builds agree
CUTOFF = "2025-06-01"  # a snapshot date: everything from here on is "the future"
VARS = f"{{as_of_date: '{AS_OF}'}}"


def build(raw: Path, work: Path, project: Path = PROJECT_DIR) -> Path:
    db = work / "warehouse.duckdb"
    result = dbt(
        "build", "--vars", VARS, raw_path=raw, db_path=db, work_dir=work, project_dir=project
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return db


def rewrite_future(raw: Path, out: Path) -> None:
    """Copy the exports, changing only what happens on or after CUTOFF: orders flip status and
    triple, web and email events vanish, tickets become open complaints, consent flips, loyalty
    tiers change. Person records keep their ids, so identity resolution is unchanged."""
    shutil.copytree(raw, out)
    con = duckdb.connect()
    future = f"timestamp '{CUTOFF}'"

    def rewrite(table: str, sql: str) -> None:
        con.sql(
            f"create or replace table t as from read_csv('{raw / table}.csv', all_varchar = true)"
        )
        con.sql(sql)
        con.sql(f"copy t to '{out / table}.csv' (header, quote '\"', force_quote *)")

    rewrite(
        "shop_orders",
        f"""update t set
            status = case status when 'completed' then 'cancelled' else 'completed' end,
            total_amount = cast(cast(total_amount as double) * 3 as varchar)
        where cast(ordered_at as timestamp) >= {future}""",
    )
    rewrite(
        "pos_transactions",
        f"""update t set amount = cast(cast(amount as double) * 3 as varchar)
        where cast(transacted_at as timestamp) >= {future}""",
    )
    rewrite("web_events", f"delete from t where cast(occurred_at as timestamp) >= {future}")
    rewrite("email_events", f"delete from t where cast(occurred_at as timestamp) >= {future}")
    rewrite(
        "support_tickets",
        f"""update t set
            category = case when cast(created_at as timestamp) >= {future} then 'complaint'
                else category end,
            status = case when cast(created_at as timestamp) >= {future} then 'open'
                else status end,
            resolved_at = case when cast(created_at as timestamp) >= {future} then null
                else strftime(cast(resolved_at as timestamp) + interval 5 day, '%Y-%m-%d %H:%M:%S')
                end
        where cast(coalesce(resolved_at, created_at) as timestamp) >= {future}""",
    )
    rewrite(
        "consent_events",
        f"""update t set status = case status when 'granted' then 'revoked' else 'granted' end
        where cast(recorded_at as timestamp) >= {future}""",
    )
    rewrite(
        "loyalty_members",
        f"""update t set tier = 'platinum'
        where cast(coalesce(nullif(updated_at, ''), enrolled_at) as timestamp) >= {future}""",
    )


def project_with_shop_names_first(tmp: Path) -> Path:
    """A copy of the project whose survivorship seed ranks shop above CRM for first names."""
    project = project_copy(tmp)
    seed = project / "seeds" / "survivorship_source_priority.csv"
    text = seed.read_text()
    assert "first_name,crm,1\nfirst_name,shop,2\n" in text
    seed.write_text(
        text.replace(
            "first_name,crm,1\nfirst_name,shop,2\n", "first_name,crm,2\nfirst_name,shop,1\n"
        )
    )
    return project


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("raw_360") / "raw"
    generate(PERSONS, SEED, out, "csv")
    return out


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, raw: Path) -> Path:
    return build(raw, tmp_path_factory.mktemp("base_360"))


@pytest.fixture(scope="module")
def altered(tmp_path_factory: pytest.TempPathFactory, raw: Path) -> Path:
    """The build on the rewritten future, with shop first names ranked above CRM."""
    work = tmp_path_factory.mktemp("altered_360")
    rewrite_future(raw, work / "raw")
    return build(work / "raw", work, project_with_shop_names_first(work))


def test_one_row_per_customer(warehouse: Path) -> None:
    rows, customers = query(
        warehouse, "select count(*), count(distinct customer_id) from customer_360"
    )[0]
    assert (
        rows
        == customers
        == query(warehouse, "select count(distinct customer_id) from customer_identifiers")[0][0]
    )


def test_revenue_is_the_sum_of_net_orders_across_channels(warehouse: Path) -> None:
    mismatches = query(
        warehouse,
        """
        with orders as (
            select customer_id, sum(net_revenue) as revenue,
                count(distinct channel) as channels
            from unified_orders where customer_id is not null group by customer_id
        )
        select count(*) filter (where abs(c.net_revenue - coalesce(o.revenue, 0)) > 0.005),
            count(*) filter (where o.channels = 2)
        from customer_360 as c left join orders as o using (customer_id)
        """,
    )[0]
    assert mismatches[0] == 0
    assert mismatches[1] > 0, "no customer buys both online and in store: the check proves little"


def test_cancelled_or_refunded_order_is_not_revenue(warehouse: Path, altered: Path) -> None:
    # an order completed in the real exports and cancelled in the rewritten ones
    order_key, customer_id, base_net = query(
        warehouse,
        f"""select order_key, customer_id, net_revenue from unified_orders
        where channel = 'online' and is_purchase and customer_id is not null
            and ordered_at >= timestamp '{CUTOFF}' and net_revenue > 0
        order by order_key limit 1""",
    )[0]
    status, net, is_purchase = query(
        altered,
        "select order_status, net_revenue, is_purchase from unified_orders "
        f"where order_key = '{order_key}'",
    )[0]
    assert (status, net, is_purchase) == ("cancelled", 0, False)
    completed = query(
        altered,
        f"""select sum(amount_reporting) filter (where order_status in ('completed', 'returned'))
        from unified_orders where customer_id = '{customer_id}'""",
    )[0][0]
    revenue = query(
        altered, f"select net_revenue from customer_360 where customer_id = '{customer_id}'"
    )[0][0]
    assert revenue == pytest.approx(completed or 0)
    assert base_net > 0


def test_consent_reflects_the_latest_event_per_channel(warehouse: Path, altered: Path) -> None:
    # rewritten exports flip every consent event from the cutoff on: a customer whose latest
    # email event is after it must have the opposite consent in the two builds, where every
    # event of theirs is before the as-of date (after it a grant does not count and a
    # revocation does, so a flip there need not flip the outcome)
    flipped = query(
        warehouse,
        f"""select customer_id, has_email_consent from customer_360
        where email_consent_updated_at >= timestamp '{CUTOFF}'
            and customer_id not in (
                select customer_id from intermediate.int_consent_events_attributed
                where channel = 'email' and recorded_at >= timestamp '{AS_OF}'
                    and customer_id is not null
            )
        order by customer_id""",
    )
    assert flipped, "no consent event after the cutoff: the check proves nothing"
    after = dict(
        query(
            altered,
            f"""select customer_id, has_email_consent from customer_360
            where customer_id in ({", ".join(f"'{c}'" for c, _ in flipped)})""",
        )
    )
    assert all(after[customer] != before for customer, before in flipped)
    no_event = query(
        warehouse,
        "select count(*), count(*) filter (where has_sms_consent) from customer_360 "
        "where sms_consent_updated_at is null",
    )[0]
    assert no_event[0] > 0 and no_event[1] == 0, "no event must mean no consent"


def test_survivorship_seed_change_changes_which_source_wins(warehouse: Path, altered: Path) -> None:
    sql = """
        select customer_id, first_name_source_system from customer_360
        where crm_record_ids is not null and shop_record_ids is not null
            and first_name_source_system in ('crm', 'shop')
        order by customer_id
    """
    before, after = dict(query(warehouse, sql)), dict(query(altered, sql))
    assert before and set(before.values()) == {"crm"}
    assert {after[c] for c in before if c in after} == {"shop"}


def test_no_feature_uses_the_future(warehouse: Path, altered: Path) -> None:
    """Rewriting everything dated on or after the cutoff leaves every feature of every snapshot
    up to the cutoff unchanged (the label looks ahead by design and is left out)."""
    columns = [
        name
        for (name,) in query(
            warehouse,
            "select column_name from information_schema.columns "
            "where table_name = 'churn_features'",
        )
        if name != "churned_next_90d"
    ]
    sql = f"""
        select {", ".join(columns)} from churn_features
        where snapshot_date <= date '{CUTOFF}' order by churn_feature_id
    """

    def rounded(rows: list[tuple]) -> list[tuple]:
        # parallel sums of doubles differ in the last bits from run to run
        return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]

    before, after = rounded(query(warehouse, sql)), rounded(query(altered, sql))
    assert len(before) > 1000
    assert before == after
    later = f"select count(*) from churn_features where snapshot_date > date '{CUTOFF}'"
    assert query(warehouse, later)[0][0] > 0
    # and the rewrite did change what came after, so the comparison could have failed
    changed = f"""
        select sum(revenue_90d) from churn_features where snapshot_date = date '{AS_OF}'
    """
    assert query(warehouse, changed) != query(altered, changed)


def test_churn_sample_is_every_labelled_row_under_the_cap(warehouse: Path) -> None:
    sampled, labelled = query(
        warehouse,
        "select (select count(*) from intermediate.int_churn_training_sample),"
        " (select count(*) from churn_features where churned_next_90d is not null)",
    )[0]
    assert 0 < sampled == min(labelled, 300_000)
    metrics_rows = query(
        warehouse, "select max(training_rows + holdout_rows) from churn_model_metrics"
    )[0][0]
    assert metrics_rows == sampled  # the evaluation trains and tests on exactly this sample


def test_churn_model_beats_recency_and_scores_the_latest_snapshot(warehouse: Path) -> None:
    metrics = {
        (model, metric): value
        for model, metric, value in query(
            warehouse, "select model_name, metric, metric_value from churn_model_metrics"
        )
    }
    assert metrics[("churn_classifier", "roc_auc")] > 0.6
    assert 0.5 <= metrics[("baseline_days_since_last_order", "roc_auc")] < 1
    latest = query(warehouse, "select max(snapshot_date), count(*) from churn_features")[0][0]
    scored = query(
        warehouse,
        "select count(*), count(distinct customer_id), min(snapshot_date), max(snapshot_date), "
        "min(churn_probability), max(churn_probability) from customer_churn_scores",
    )[0]
    in_latest = query(
        warehouse, f"select count(*) from churn_features where snapshot_date = date '{latest}'"
    )[0][0]
    assert scored[0] == scored[1] == in_latest
    assert scored[2] == scored[3] == latest == dt.date.fromisoformat(AS_OF)
    assert 0 <= scored[4] <= scored[5] <= 1


def test_timeline_orders_everything_about_a_customer(warehouse: Path) -> None:
    categories = {
        category
        for (category,) in query(warehouse, "select distinct event_category from customer_timeline")
    }
    assert categories == {"commerce", "service", "web", "email", "consent"}
    orders = query(
        warehouse,
        """select count(*) from customer_timeline where event_category = 'commerce'""",
    )[0][0]
    attributed = query(
        warehouse, "select count(*) from unified_orders where customer_id is not null"
    )[0][0]
    assert orders == attributed


def test_a_reader_never_blocks_a_build_nor_sees_a_half_built_mart(
    warehouse: Path, tmp_path: Path
) -> None:
    serving = tmp_path / "serving" / "customer_360.duckdb"
    publish(warehouse, serving)
    reader = duckdb.connect(str(serving), read_only=True)
    customers = reader.sql("select count(*) from customer_360").fetchall()[0][0]
    # the next build's file replaces the served one while the reader holds it open
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(warehouse, rebuilt)
    with duckdb.connect(str(rebuilt)) as writer:
        writer.execute(
            "delete from customer_360 where customer_id in "
            "(select customer_id from customer_360 order by customer_id limit 5)"
        )
    publish(rebuilt, serving)
    assert reader.sql("select count(*) from customer_360").fetchall()[0][0] == customers
    reader.close()
    with duckdb.connect(str(serving), read_only=True) as fresh:
        assert fresh.sql("select count(*) from customer_360").fetchall()[0][0] == customers - 5
