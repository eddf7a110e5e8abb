"""Identity pages: the committed Splink model's charts, its blocking rules, and Splink's
comparison viewer, waterfall and cluster studio over pairs and customers from the marts.

The marts keep each pair's probability and the level each comparison reached, not the
per-comparison weights Splink's dashboards draw, so the pairs shown are scored again here
with the committed model against every person record (the population the build scored
against, for term frequencies): the probabilities equal the build's. Only the listed pairs
are scored (Splink's score_pairs on the records involved, then those pairs kept), so the
cost follows the number of pairs shown, not the warehouse.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from splink import DuckDBAPI, Linker
from splink.blocking_analysis import chart_comparisons_from_blocking_rules

from c360.identity.scoring import MATCH_COLUMNS, MODEL_PATH, splink_connection
from c360.identity.splink_settings import PREDICTION_RULES, UNIQUE_ID
from c360.report import masking
from c360.report.site import offline


@dataclass
class Scorer:
    """The committed model on its own Splink connection, over every person record."""

    con: duckdb.DuckDBPyConnection
    db_api: DuckDBAPI
    frame: object  # SplinkDataFrame of every record
    linker: Linker
    model: dict

    @classmethod
    def over(cls, records: pa.Table, model_path: Path = MODEL_PATH) -> Scorer:
        con = splink_connection()
        db_api = DuckDBAPI(connection=con)
        frame = db_api.register(records.select(MATCH_COLUMNS), table_name="report_records")
        model = json.loads(Path(model_path).read_text())
        return cls(con, db_api, frame, Linker(frame, model, log_level=logging.WARNING), model)

    def score(self, records: pa.Table, pairs: pa.Table, name: str, masked: bool):
        """Splink's predictions (every intermediate column) for `pairs` (person_record_id_l,
        person_record_id_r, in the order given) between `records`, masked if asked; a
        SplinkDataFrame backed by a table, as the dashboards need."""
        left = self.db_api.register(
            _side(records, pairs.column("person_record_id_l")), table_name=f"{name}_left"
        )
        right = self.db_api.register(
            _side(records, pairs.column("person_record_id_r")), table_name=f"{name}_right"
        )
        scored = self.linker.inference.score_pairs(left, right)
        ordered = pairs.select(["person_record_id_l", "person_record_id_r"]).append_column(
            "report_order", pa.array(range(pairs.num_rows), pa.int64())
        )
        self.con.register(f"{name}_wanted", ordered)
        table = (
            self.con.sql(
                f"""
            select scored.*
            from {scored.physical_name} as scored
            inner join {name}_wanted as wanted
                on scored.{UNIQUE_ID}_l = wanted.person_record_id_l
                and scored.{UNIQUE_ID}_r = wanted.person_record_id_r
            order by wanted.report_order
            """
            )
            .arrow()
            .read_all()
        )
        if table.num_rows != pairs.num_rows:
            raise RuntimeError(f"{name}: scored {table.num_rows} of {pairs.num_rows} pairs")
        self._table(masking.mask_table(table, MATCH_COLUMNS) if masked else table, name)
        # the dashboards' SQL reads predictions under Splink's own name for them
        return self.db_api.table_to_splink_dataframe("__splink__df_predict", name)

    def nodes(self, records: pa.Table, name: str, masked: bool):
        """Records with their customer as Splink's cluster_id, for cluster studio."""
        nodes = records.select([*MATCH_COLUMNS, "source_system"]).append_column(
            "cluster_id", records.column("customer_id")
        )
        self._table(masking.mask_table(nodes, MATCH_COLUMNS) if masked else nodes, name)
        return self.db_api.table_to_splink_dataframe(name, name)

    def _table(self, table: pa.Table, name: str) -> None:
        # a real table (not a view over Arrow): the comparison viewer reads its rowid
        self.con.register(f"{name}_arrow", table)
        self.con.sql(f"create or replace table {name} as select * from {name}_arrow")
        self.con.unregister(f"{name}_arrow")


def _side(records: pa.Table, ids: pa.ChunkedArray) -> pa.Table:
    wanted = pc.is_in(records.column(UNIQUE_ID), value_set=pc.unique(ids))
    return records.filter(wanted).select(MATCH_COLUMNS)


# ---------------------------------------------------------------- the model


def model_charts(scorer: Scorer) -> dict[str, dict]:
    """Vega-Lite specs of the committed model's match weights and m/u probabilities."""
    visuals = scorer.linker.visualisations
    return {
        "match_weights": visuals.match_weights_chart().chart_dict,
        "m_u": visuals.m_u_parameters_chart().chart_dict,
    }


def model_rules(model: dict) -> list[tuple[str, str]]:
    """The model's prediction blocking rules as (name, SQL): `make train` keeps only the
    rules whose columns hold data, so the model in use is read, not the full list; a rule
    is named as in splink_settings when it is one of ours, else shown as its SQL."""
    names = {
        rule.creator.get_blocking_rule("duckdb").blocking_rule_sql: rule.name
        for rule in PREDICTION_RULES
    }
    return [
        (names.get(rule["blocking_rule"], rule["blocking_rule"]), rule["blocking_rule"])
        for rule in model["blocking_rules_to_generate_predictions"]
    ]


def blocking(scorer: Scorer) -> tuple[list[dict], dict]:
    """Per prediction rule of the model in use, in order: comparisons it adds and the
    running total, exactly (every record), with Splink's cumulative chart of the same
    counts."""
    rules = model_rules(scorer.model)
    chart = chart_comparisons_from_blocking_rules(
        scorer.frame,
        blocking_rules=[sql for _, sql in rules],
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        record_sample_proportion=1.0,
    )
    rows = [
        {
            "rule": name,
            "marginal_comparisons": int(counts["marginal_comparison_count"]),
            "cumulative_comparisons": int(counts["cumulative_comparison_count"]),
        }
        for (name, _), counts in zip(rules, chart.raw_records, strict=True)
    ]
    return rows, chart.chart_dict


# ---------------------------------------------------------------- review and clusters


def review(scorer: Scorer, records: pa.Table, pairs: pa.Table, out: Path, masked: bool) -> dict:
    """Splink's comparison viewer over the review pairs (every pair an example of its
    comparison vector) written to `out`; returns the waterfall chart spec of the pairs."""
    predictions = scorer.score(records, pairs, "review_pairs", masked)
    visuals = scorer.linker.visualisations
    html = visuals.comparison_viewer_dashboard(
        predictions,
        str(out),
        overwrite=True,
        num_example_rows=max(pairs.num_rows, 1),
        return_html_as_string=True,
    )
    out.write_text(offline(_with_mode(html, masked)), encoding="utf-8")
    return visuals.waterfall_chart(predictions.as_record_list(), filter_nulls=False).chart_dict


def cluster_studio(
    scorer: Scorer,
    records: pa.Table,
    pairs: pa.Table,
    customers: list[tuple[str, str]],
    out: Path,
    name: str,
    masked: bool,
) -> None:
    """Splink's cluster studio over `customers` ((customer_id, label) pairs), their records
    as nodes and `pairs` between them as edges, written to `out`."""
    edges = scorer.score(records, pairs, f"{name}_edges", masked)
    nodes = scorer.nodes(records, f"{name}_nodes", masked)
    html = scorer.linker.visualisations.cluster_studio_dashboard(
        edges,
        nodes,
        str(out),
        cluster_ids=[customer for customer, _ in customers],
        cluster_names=[label for _, label in customers],
        overwrite=True,
        return_html_as_string=True,
    )
    out.write_text(offline(_with_mode(html, masked)), encoding="utf-8")


def _with_mode(html: str, masked: bool) -> str:
    """A Splink dashboard with a line above it saying whether its values are masked."""
    note = (
        f"Masked: personal values are the first {masking.HASH_CHARS} hex digits of their "
        'SHA-256, birth dates their year. <a href="index.html">Report index</a>'
        if masked
        else 'Unmasked: personal values in clear. <a href="index.html">Report index</a>'
    )
    banner = f'<p style="font: 14px system-ui, sans-serif; margin: 8px">{note}</p>'
    head, body, rest = html.partition("<body>")
    if not body:
        raise RuntimeError("Splink dashboard without <body>: cannot mark its mode")
    return head + body + banner + rest
