"""Every warehouse read of the report, in one place.

The report reads the relations named in RELATIONS and nothing else, so pointing it at other
marts (contracted ones, a history table) is a change to that mapping. Every query returns an
Arrow table in a fixed order, so a report of the same warehouse is the same report.

Record-level attributes (names, emails, ...) are only ever read for records present in
customer_identifiers: the marts drop customers with an erasure request, so no page can show
an erased customer's data. Nothing of the intermediate layer is read: the person records and
Splink's scored pairs (the report re-scores pairs with the committed Splink model, which
needs every record's values for term frequencies) come through the identity tools'
contracted views (c360.identity.workbench), and the churn training sample (the rows the
holdout evaluation trains and tests on) is churn_features restricted to the keys of the
contracted churn_training_sample view. Both live in schemas that are never published: the
report runs on the build warehouse.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from c360.identity import workbench
from c360.identity.scoring import MATCH_COLUMNS

RELATIONS: dict[str, str | None] = {
    # every person record's match columns, erased customers' included (never shown as such)
    "person_records": workbench.PERSON_RECORDS,
    # Splink's scored pairs (match_source 'model') and the deterministic links
    "scored_pairs": workbench.SCORED_PAIRS,
    "customer_identifiers": "main.customer_identifiers",
    "identity_edges": "main.customer_identity_edges",
    "review_queue": "main.identity_review_queue",
    "identity_quality": "main.identity_quality_report",
    # one row per build, source pair and match rate; None until identity history is kept
    # (columns: built_at timestamp, dimension 'source_l -> source_r', metric_value)
    "identity_quality_history": None,
    "source_data_quality": "main.source_data_quality",
    "churn_metrics": "main.churn_model_metrics",
    "churn_scores": "main.customer_churn_scores",
    "churn_features": "main.churn_features",
    # the keys of the churn_features rows a new churn model version trains on
    "churn_training_sample": "churn_workbench.churn_training_sample",
}

# record attributes the report shows beside the Splink matching columns
RECORD_COLUMNS = [*MATCH_COLUMNS, "source_system"]


class MissingRelation(RuntimeError):
    """The warehouse lacks a relation the report reads."""


def connect(db_path: str) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-only: the report never writes to it."""
    try:
        return duckdb.connect(db_path, read_only=True)
    except duckdb.IOException as error:
        raise RuntimeError(
            f"cannot open the warehouse {db_path} read-only ({error}); "
            "run `make build` first, and not while a build is writing it"
        ) from error


def _name(key: str) -> str:
    relation = RELATIONS[key]
    if relation is None:
        raise MissingRelation(f"no relation configured for {key!r} (c360.report.queries)")
    return relation


def check_relations(con: duckdb.DuckDBPyConnection) -> None:
    """Fail naming every configured relation the warehouse lacks."""
    present = {
        f"{schema}.{name}"
        for schema, name in con.sql(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    missing = sorted(r for r in RELATIONS.values() if r is not None and r not in present)
    if missing:
        raise MissingRelation(
            f"the warehouse lacks {', '.join(missing)} (needed by the report, "
            "c360.report.queries.RELATIONS): run `make build` first"
        )


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, **params: object) -> pa.Table:
    return con.sql(sql, params=params or None).arrow().read_all()


# ---------------------------------------------------------------- identity: records and pairs


def matching_records(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The Splink matching columns of every person record: the population the build scored
    against (term frequencies, blocking counts). Never shown on a page."""
    columns = ", ".join(MATCH_COLUMNS)
    return _arrow(con, f"select {columns} from {_name('person_records')} order by person_record_id")


def records_of(con: duckdb.DuckDBPyConnection, record_ids: list[str]) -> pa.Table:
    """Attributes and customer of the listed records, only those of customers still present
    (an erased customer's records are not in customer_identifiers)."""
    con.register(
        "report_record_ids", pa.table({"person_record_id": pa.array(record_ids, pa.string())})
    )
    try:
        columns = ", ".join(f"records.{c}" for c in RECORD_COLUMNS)
        return _arrow(
            con,
            f"""
            select {columns}, identifiers.customer_id
            from report_record_ids as wanted
            inner join {_name("customer_identifiers")} as identifiers
                on wanted.person_record_id = identifiers.person_record_id
            inner join {_name("person_records")} as records
                on identifiers.person_record_id = records.person_record_id
            order by records.person_record_id
            """,
        )
    finally:
        con.unregister("report_record_ids")


def records_of_customers(con: duckdb.DuckDBPyConnection, customer_ids: list[str]) -> pa.Table:
    """Attributes of every record of the listed customers, as records_of."""
    con.register(
        "report_customer_ids", pa.table({"customer_id": pa.array(customer_ids, pa.string())})
    )
    try:
        columns = ", ".join(f"records.{c}" for c in RECORD_COLUMNS)
        return _arrow(
            con,
            f"""
            select {columns}, identifiers.customer_id
            from report_customer_ids as wanted
            inner join {_name("customer_identifiers")} as identifiers
                on wanted.customer_id = identifiers.customer_id
            inner join {_name("person_records")} as records
                on identifiers.person_record_id = records.person_record_id
            order by records.person_record_id
            """,
        )
    finally:
        con.unregister("report_customer_ids")


def review_pairs(con: duckdb.DuckDBPyConnection, limit: int) -> pa.Table:
    """The first `limit` pairs of the review queue: most records moved by a "same person"
    decision first, as the mart orders them."""
    return _arrow(
        con,
        f"""
        select
            review_pair_id, person_record_id_l, person_record_id_r, customer_id_l,
            customer_id_r, records_moved_if_merged, is_already_same_customer,
            match_probability, match_weight, comparison_levels,
            first_name_l, first_name_r, last_name_l, last_name_r, email_l, email_r,
            phone_e164_l, phone_e164_r, postal_code_l, postal_code_r, birth_date_l, birth_date_r
        from {_name("review_queue")}
        order by records_moved_if_merged desc, match_probability desc, review_pair_id
        limit $limit
        """,
        limit=limit,
    )


def review_queue_size(con: duckdb.DuckDBPyConnection) -> int:
    return con.sql(f"select count(*) from {_name('review_queue')}").fetchall()[0][0]


def largest_customers(con: duckdb.DuckDBPyConnection, limit: int) -> pa.Table:
    """The customers with the most person records."""
    return _arrow(
        con,
        f"""
        select customer_id, count(*) as records
        from {_name("customer_identifiers")}
        group by customer_id
        order by records desc, customer_id
        limit $limit
        """,
        limit=limit,
    )


def conflicted_customers(con: duckdb.DuckDBPyConnection, limit: int) -> pa.Table:
    """Customers of two records or more with the most evidence against them: pairs of their
    own records that Splink scored but that do not hold the customer together (below the
    match threshold: the records are joined only through others), review-queue pairs
    touching them, and each extra first name or birth date among their records."""
    return _arrow(
        con,
        f"""
        with identifiers as (
            select * from {_name("customer_identifiers")}
        ),

        records as (
            select
                identifiers.customer_id,
                person_records.first_name_canonical,
                person_records.birth_date
            from identifiers
            inner join {_name("person_records")} as person_records
                on identifiers.person_record_id = person_records.person_record_id
        ),

        customers as (
            select
                customer_id,
                count(*) as records,
                count(distinct first_name_canonical) as first_names,
                count(distinct birth_date) as birth_dates
            from records
            group by customer_id
            having count(*) > 1
        ),

        inner_pairs as (
            select
                left_side.customer_id,
                pairs.person_record_id_l,
                pairs.person_record_id_r
            from {_name("scored_pairs")} as pairs
            inner join identifiers as left_side
                on pairs.person_record_id_l = left_side.person_record_id
            inner join identifiers as right_side
                on pairs.person_record_id_r = right_side.person_record_id
            where
                pairs.match_source = 'model'
                and left_side.customer_id = right_side.customer_id
        ),

        weak_pairs as (
            select inner_pairs.customer_id, count(*) as weak_pairs
            from inner_pairs
            left join {_name("identity_edges")} as edges
                on
                    inner_pairs.person_record_id_l = edges.person_record_id_l
                    and inner_pairs.person_record_id_r = edges.person_record_id_r
            where edges.identity_edge_id is null
            group by inner_pairs.customer_id
        ),

        review_sides as (
            select customer_id_l as customer_id from {_name("review_queue")}
            union all
            select customer_id_r as customer_id from {_name("review_queue")}
        ),

        review_counts as (
            select customer_id, count(*) as review_pairs
            from review_sides
            group by customer_id
        ),

        final as (
            select
                customers.customer_id,
                customers.records,
                coalesce(weak_pairs.weak_pairs, 0) as weak_pairs,
                coalesce(review_counts.review_pairs, 0) as review_pairs,
                customers.first_names,
                customers.birth_dates,
                coalesce(weak_pairs.weak_pairs, 0) + coalesce(review_counts.review_pairs, 0)
                + greatest(customers.first_names - 1, 0)
                + greatest(customers.birth_dates - 1, 0) as conflicts
            from customers
            left join weak_pairs on customers.customer_id = weak_pairs.customer_id
            left join review_counts on customers.customer_id = review_counts.customer_id
        )

        select * from final
        where conflicts > 0
        order by conflicts desc, records desc, customer_id
        limit $limit
        """,
        limit=limit,
    )


def customer_pairs(con: duckdb.DuckDBPyConnection, customer_ids: list[str]) -> pa.Table:
    """The pairs drawn between records of each listed customer: every pair Splink scored
    (from identity_min_pair_probability up) and every deterministic edge, as the build saw
    them, oriented as stored (person_record_id_l < person_record_id_r)."""
    con.register(
        "report_customer_ids", pa.table({"customer_id": pa.array(customer_ids, pa.string())})
    )
    try:
        return _arrow(
            con,
            f"""
            with members as (
                select identifiers.person_record_id, identifiers.customer_id
                from {_name("customer_identifiers")} as identifiers
                inner join report_customer_ids as wanted
                    on identifiers.customer_id = wanted.customer_id
            ),

            candidate_pairs as (
                select person_record_id_l, person_record_id_r from {_name("scored_pairs")}
                where match_source = 'model'
                union
                -- oriented as Splink orients its pairs, so a pair is drawn once
                select
                    least(person_record_id_l, person_record_id_r) as person_record_id_l,
                    greatest(person_record_id_l, person_record_id_r) as person_record_id_r
                from {_name("identity_edges")}
                where edge_source = 'deterministic'
            )

            select candidate_pairs.person_record_id_l, candidate_pairs.person_record_id_r
            from candidate_pairs
            inner join members as left_side
                on candidate_pairs.person_record_id_l = left_side.person_record_id
            inner join members as right_side
                on candidate_pairs.person_record_id_r = right_side.person_record_id
            where left_side.customer_id = right_side.customer_id
            order by 1, 2
            """,
        )
    finally:
        con.unregister("report_customer_ids")


# ---------------------------------------------------------------- quality


def identity_quality(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return _arrow(
        con,
        f"""
        select metric_group, dimension, metric_value
        from {_name("identity_quality")}
        order by metric_group, dimension
        """,
    )


def match_rate_history(con: duckdb.DuckDBPyConnection, built_at: object) -> pa.Table:
    """Match rate per source pair per build. Until identity history is kept, the current
    build is the only point, stamped `built_at`."""
    if RELATIONS["identity_quality_history"] is None:
        return _arrow(
            con,
            f"""
            select cast($built_at as timestamp) as built_at, dimension, metric_value
            from {_name("identity_quality")}
            where metric_group = 'match_rate'
            order by dimension
            """,
            built_at=built_at,
        )
    return _arrow(
        con,
        f"""
        select built_at, dimension, metric_value
        from {_name("identity_quality_history")}
        order by built_at, dimension
        """,
    )


def source_data_quality(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return _arrow(
        con,
        f"""
        select source_table, column_name, issue, rows_in_table, affected_rows, affected_share
        from {_name("source_data_quality")}
        order by source_table, column_name, issue
        """,
    )


# ---------------------------------------------------------------- churn


def churn_metrics(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return _arrow(
        con,
        f"""
        select model_name, metric, metric_value, holdout_snapshot_date, training_rows,
            holdout_rows, training_snapshots
        from {_name("churn_metrics")}
        order by model_name, metric
        """,
    )


def churn_training_sample(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The labelled churn_features rows the build's holdout evaluation read, by key."""
    return _arrow(
        con,
        f"""
        select features.*
        from {_name("churn_features")} as features
        inner join {_name("churn_training_sample")} as sample
            on features.churn_feature_id = sample.churn_feature_id
        order by features.churn_feature_id
        """,
    )


def churn_driver_counts(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Per feature and rank (1-3): how many customers of the latest snapshot have it as a
    driver of their churn risk."""
    scores = _name("churn_scores")
    return _arrow(
        con,
        f"""
        with drivers as (
            select driver_1 as feature, 1 as driver_rank from {scores}
            union all
            select driver_2 as feature, 2 as driver_rank from {scores}
            union all
            select driver_3 as feature, 3 as driver_rank from {scores}
        )

        select feature, driver_rank, count(*) as customers
        from drivers
        where feature is not null
        group by feature, driver_rank
        order by feature, driver_rank
        """,
    )


def churn_scored_customers(con: duckdb.DuckDBPyConnection) -> int:
    return con.sql(f"select count(*) from {_name('churn_scores')}").fetchall()[0][0]
