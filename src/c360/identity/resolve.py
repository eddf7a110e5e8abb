"""Near-real-time resolve: one incoming record checked against the published warehouse.

    python -m c360.identity.resolve --email ada@example.com --name "Ada Lovelace" \
        [--phone ... --birth-date ... --postal-code ... --street ...] [--profile] [--json]

The same decision the build would make, one record at a time, in milliseconds:
- the record is standardised by the project's own staging macros (mart
  resolve_configuration holds them rendered as SQL; nothing is rewritten in Python);
- its candidates are the published person records (mart resolve_index, erased customers
  left out) sharing a key of one of the blocking rules of the model the build used
  (publishing computes those keys and indexes them: `prepare_published`);
- each candidate pair is scored from the model JSON as Splink scores it (prior,
  log2(m/u) per level, term-frequency adjustments), with DuckDB's string similarities;
- candidate customers at or above the build's match threshold are tried strongest first,
  as clustering applies edges, and one is returned only when the incoming record passes
  the clustering guards (c360.identity.clustering) against all of its records;
- its id goes through customer_id_aliases to the current one. Otherwise the record is new.

Splink's own predict builds and runs a SQL pipeline per call, too slow for one record
(docs/identity-over-time.md); the scorer here is checked against it (tests/python/test_resolve.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from splink.internals.comparison_level import M_U_CLAMP_MIN
from sqlglot import exp

from c360 import phones
from c360.identity.clustering import (
    ALL_RULES,
    GUARD_COLUMNS,
    GuardedClusters,
    jaro_winkler,
    nicknames,
)
from c360.identity.scoring import CONTRADICTING_LEVELS, MATCH_COLUMNS, model_path
from c360.identity.splink_settings import UNIQUE_ID

DEFAULT_DB = Path("target/serving/customer_360.duckdb")
# The raw fields of an incoming record, as the resolve_input relation the standardising SQL
# (macro resolve_input_standardised) reads.
INPUT_FIELDS = (
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "street_address",
    "postal_code",
)
# Standardised columns that can find candidates or score: an incoming record with none of
# them cannot be matched to anything.
MATCH_FIELDS = [c for c in MATCH_COLUMNS if c != UNIQUE_ID]
INDEX_TABLE = "resolve_index"
CONFIGURATION_TABLE = "resolve_configuration"
KEYS_TABLE = "resolve_blocking_keys"
FREQUENCIES_TABLE = "resolve_term_frequencies"
MODEL_TABLE = "resolve_model"
PUBLISHED_TABLES = (INDEX_TABLE, CONFIGURATION_TABLE, KEYS_TABLE, FREQUENCIES_TABLE, MODEL_TABLE)
# Separates the parts of a blocking key (a control character no standardised value holds).
KEY_SEPARATOR = "chr(31)"
# First names the guards count (how common a spelling is: clustering._name_counts).
NAME_COUNT_COLUMNS = ("first_name_key", "first_name_canonical")
NEW = "new"
logger = logging.getLogger("c360")


class ResolveError(RuntimeError):
    """Resolve cannot answer: bad input, or no usable published warehouse or model."""


# --- String similarities as DuckDB computes them -------------------------------------------


def jaro_winkler_similarity(a: str, b: str) -> float:
    """DuckDB's jaro_winkler_similarity, as Splink's levels evaluate it."""
    return jaro_winkler(a, b, duckdb=True)


def damerau_levenshtein(a: str, b: str) -> int:
    """DuckDB's damerau_levenshtein: insertions, deletions, substitutions and transpositions
    of adjacent characters, unrestricted (a transposed pair may be edited again)."""
    len_a, len_b = len(a), len(b)
    infinity = len_a + len_b
    last_row: dict[str, int] = {}
    table = [[infinity] * (len_b + 2)]
    table += [[infinity, *range(len_b + 1)]]
    table += [[infinity, i, *([0] * len_b)] for i in range(1, len_a + 1)]
    for i in range(1, len_a + 1):
        last_match_col = 0
        for j in range(1, len_b + 1):
            i1 = last_row.get(b[j - 1], 0)
            j1 = last_match_col
            cost = 1
            if a[i - 1] == b[j - 1]:
                cost = 0
                last_match_col = j
            table[i + 1][j + 1] = min(
                table[i][j] + cost,
                table[i + 1][j] + 1,
                table[i][j + 1] + 1,
                table[i1][j1] + (i - i1 - 1) + 1 + (j - j1 - 1),
            )
        last_row[a[i - 1]] = i
    return table[len_a + 1][len_b + 1]


# --- The model's SQL conditions as Python predicates -----------------------------------------

Evaluator = Callable[[dict, dict], Any]
_EPOCH = dt.date(1970, 1, 1)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC).timestamp()
    if isinstance(value, dt.date):
        return float((value - _EPOCH).days * 86400)
    raise TypeError(f"epoch() of {value!r}")


def _substring(value: str | None, start: int | None, length: int | None) -> str | None:
    if value is None or start is None:
        return None
    begin = max(start - 1, 0)
    if length is None:
        return value[begin:]
    return value[begin : max(start - 1 + length, 0)]


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool | None]:
    def compare(x: Any, y: Any) -> bool | None:
        return None if x is None or y is None else op(x, y)

    return compare


_COMPARISONS = {
    exp.EQ: _compare(lambda x, y: x == y),
    exp.NEQ: _compare(lambda x, y: x != y),
    exp.LT: _compare(lambda x, y: x < y),
    exp.LTE: _compare(lambda x, y: x <= y),
    exp.GT: _compare(lambda x, y: x > y),
    exp.GTE: _compare(lambda x, y: x >= y),
}
_TEXT_TYPES = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR}


class UnsupportedForm(ValueError):
    """A SQL form the scorer has no exact Python equivalent of."""


def compile_condition(sql: str, column: Callable[[exp.Column], tuple[str, str]]) -> Evaluator:
    """A function of (left record, right record) computing a SQL condition with SQL's NULL
    logic. `column` names the side ('l' or 'r') and column of a column reference. A form
    without an exact equivalent here raises UnsupportedForm: a retrained model with a new
    kind of level fails loudly instead of being scored differently from the build."""

    def build(node: exp.Expression) -> Evaluator:
        if isinstance(node, exp.Paren):
            return build(node.this)
        if isinstance(node, exp.Column):
            side, name = column(node)
            if side == "l":
                return lambda left, right: left.get(name)
            return lambda left, right: right.get(name)
        if isinstance(node, exp.Literal):
            value = node.this if node.is_string else float(node.this)
            if not node.is_string and value.is_integer() and "." not in node.this:
                value = int(value)
            return lambda left, right: value
        if isinstance(node, exp.Null):
            return lambda left, right: None
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            inner = build(node.this)
            return lambda left, right: inner(left, right) is None
        if isinstance(node, exp.Not):
            inner = build(node.this)
            return lambda left, right: None if (v := inner(left, right)) is None else not v
        if isinstance(node, exp.And):
            x, y = build(node.this), build(node.expression)

            def both(left: dict, right: dict) -> bool | None:
                a = x(left, right)
                if a is False:
                    return False
                b = y(left, right)
                if b is False:
                    return False
                return None if a is None or b is None else True

            return both
        if isinstance(node, exp.Or):
            x, y = build(node.this), build(node.expression)

            def either(left: dict, right: dict) -> bool | None:
                a = x(left, right)
                if a is True:
                    return True
                b = y(left, right)
                if b is True:
                    return True
                return None if a is None or b is None else False

            return either
        if type(node) in _COMPARISONS:
            op, x, y = _COMPARISONS[type(node)], build(node.this), build(node.expression)
            return lambda left, right: op(x(left, right), y(left, right))
        if isinstance(node, exp.Cast) and node.to.this in _TEXT_TYPES:
            inner = build(node.this)
            return lambda left, right: _text(inner(left, right))
        if isinstance(node, exp.Substring):
            value, start = build(node.this), build(node.args["start"])
            length = build(node.args["length"]) if node.args.get("length") else None
            return lambda left, right: _substring(
                value(left, right), start(left, right), length(left, right) if length else None
            )
        if isinstance(node, exp.Abs):
            inner = build(node.this)
            return lambda left, right: None if (v := inner(left, right)) is None else abs(v)
        if isinstance(node, exp.Sub):
            x, y = build(node.this), build(node.expression)

            def minus(left: dict, right: dict) -> Any:
                a, b = x(left, right), y(left, right)
                return None if a is None or b is None else a - b

            return minus
        if isinstance(node, exp.TimeToUnix):
            inner = build(node.this)
            return lambda left, right: _epoch(inner(left, right))
        if isinstance(node, exp.JarowinklerSimilarity):
            return _string_function(jaro_winkler_similarity, build(node.this), node.expression)
        if isinstance(node, exp.Anonymous) and node.name.lower() == "damerau_levenshtein":
            x, y = node.expressions
            return _string_function(damerau_levenshtein, build(x), y)
        raise UnsupportedForm(f"{node.sql(dialect='duckdb')} ({type(node).__name__})")

    def _string_function(
        function: Callable[[str, str], Any], x: Evaluator, other: exp.Expression
    ) -> Evaluator:
        y = build(other)

        def call(left: dict, right: dict) -> Any:
            a, b = x(left, right), y(left, right)
            return None if a is None or b is None else function(a, b)

        return call

    return build(sqlglot.parse_one(sql, read="duckdb"))


def _suffixed_column(node: exp.Column) -> tuple[str, str]:
    """A comparison level's column: `first_name_key_l` is the left record's first_name_key."""
    name = node.name
    if node.table or not (name.endswith("_l") or name.endswith("_r")):
        raise UnsupportedForm(f"column {node.sql()} is not <column>_l or <column>_r")
    return name[-1], name[:-2]


# --- The model: comparisons, weights, blocking rules -----------------------------------------


@dataclass
class Level:
    label: str
    gamma: int
    condition: Evaluator | None  # None: the ELSE level
    match_weight: float
    tf_column: str | None = None
    tf_weight: float = 0.0
    tf_log2_u_exact: float = 0.0
    tf_minimum_u: float = 0.0


@dataclass
class Comparison:
    name: str
    levels: list[Level]


@dataclass
class BlockingRule:
    """One rule as key expressions: a record on the left of a pair and one on the right
    are blocked together when their keys are equal (NULL when any part is NULL, as in the
    rule's equality join). Symmetric rules have one key, others (first and last names
    swapped) one per side."""

    number: int
    sql: str
    left_key: str
    right_key: str

    @property
    def symmetric(self) -> bool:
        return self.left_key == self.right_key


@dataclass
class Model:
    prior_match_weight: float
    comparisons: list[Comparison]
    rules: list[BlockingRule]
    tf_columns: list[str]
    labels: dict[str, dict[int, str]] = field(default_factory=dict)


def _exact_column(sql: str) -> str | None:
    """The column of an exact-match level (`"x_l" = "x_r"`), else None."""
    node = sqlglot.parse_one(sql, read="duckdb")
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.EQ) and all(isinstance(n, exp.Column) for n in node.iter_expressions()):
        (side_x, x), (side_y, y) = (_suffixed_column(n) for n in node.iter_expressions())
        if x == y and {side_x, side_y} == {"l", "r"}:
            return x
    return None


def load_model(model: dict) -> Model:
    """The scorer and blocking keys of a saved Splink model; UnsupportedForm names the
    comparison and level (or rule) with a form this module cannot score exactly."""
    probability = model["probability_two_random_records_match"]
    comparisons = []
    tf_columns: list[str] = []
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        raw = comparison["comparison_levels"]
        gamma = sum(1 for level in raw if not level.get("is_null_level")) - 1
        exact_u = {}
        for level in raw:
            if not level.get("is_null_level") and level["sql_condition"] != "ELSE":
                column = _exact_column(level["sql_condition"])
                if column is not None and column not in exact_u:
                    exact_u[column] = level.get("u_probability")
        levels = []
        for level in raw:
            label = level.get("label_for_charts", level["sql_condition"])
            try:
                condition = (
                    None
                    if level["sql_condition"] == "ELSE"
                    else compile_condition(level["sql_condition"], _suffixed_column)
                )
            except (UnsupportedForm, sqlglot.errors.ParseError) as error:
                raise UnsupportedForm(
                    f"comparison {name!r}, level {label!r}: resolve cannot score the SQL "
                    f"form {error}. Extend c360.identity.resolve.compile_condition or "
                    "use a model without it."
                ) from error
            if level.get("is_null_level"):
                levels.append(Level(label, -1, condition, 0.0))
                continue
            m = max(level["m_probability"], M_U_CLAMP_MIN)
            u = max(level["u_probability"], M_U_CLAMP_MIN)
            entry = Level(label, gamma, condition, math.log2(m / u))
            tf_column = level.get("tf_adjustment_column")
            tf_weight = float(level.get("tf_adjustment_weight", 1.0) or 0.0)
            if tf_column and tf_weight and condition is not None:
                if exact_u.get(tf_column) is None:
                    raise UnsupportedForm(
                        f"comparison {name!r}, level {label!r}: term-frequency adjustment on "
                        f"{tf_column} without an exact-match level to take u from"
                    )
                entry.tf_column = tf_column
                entry.tf_weight = tf_weight
                entry.tf_log2_u_exact = math.log2(exact_u[tf_column])
                entry.tf_minimum_u = float(level.get("tf_minimum_u_value", 0.0) or 0.0)
                if tf_column not in tf_columns:
                    tf_columns.append(tf_column)
            levels.append(entry)
            gamma -= 1
        comparisons.append(Comparison(name, levels))
    rules = [
        blocking_rule(number, rule["blocking_rule"])
        for number, rule in enumerate(model["blocking_rules_to_generate_predictions"], 1)
    ]
    return Model(
        prior_match_weight=math.log2(probability / (1 - probability)),
        comparisons=comparisons,
        rules=rules,
        tf_columns=tf_columns,
        labels={c.name: {level.gamma: level.label for level in c.levels} for c in comparisons},
    )


def blocking_rule(number: int, sql: str) -> BlockingRule:
    """A blocking rule (a conjunction of equalities between an expression of the left
    record and one of the right, and of conditions on one record) as two key expressions
    in DuckDB SQL, NULL on a side whose conditions do not hold."""
    node = sqlglot.parse_one(sql, read="duckdb")
    equalities: list[exp.EQ] = []
    conditions: list[exp.Expression] = []

    def conjuncts(part: exp.Expression) -> None:
        while isinstance(part, exp.Paren):
            part = part.this
        if isinstance(part, exp.And):
            conjuncts(part.this)
            conjuncts(part.expression)
        elif (
            isinstance(part, exp.EQ)
            and len({column.table for column in part.find_all(exp.Column)}) == 2
        ):
            equalities.append(part)
        else:
            # a condition on one record (l.x is not null): that side's key is NULL where it
            # does not hold
            conditions.append(part)

    conjuncts(node)
    left, right = [], []
    filters: dict[str, list[str]] = {"l": [], "r": []}
    for condition in conditions:
        tables = {column.table for column in condition.find_all(exp.Column)}
        if len(tables) != 1 or tables - {"l", "r"}:
            raise UnsupportedForm(
                f"blocking rule {number} ({sql}): {condition.sql(dialect='duckdb')} is not an "
                "equality between the two records nor a condition on one of them; resolve "
                "looks candidates up by equal keys"
            )
        filters[tables.pop()].append(_unqualified(condition, cast=False))
    for equality in equalities:
        sides = []
        for expression in (equality.this, equality.expression):
            tables = {column.table for column in expression.find_all(exp.Column)}
            if len(tables) != 1 or tables - {"l", "r"}:
                raise UnsupportedForm(
                    f"blocking rule {number} ({sql}): {expression.sql(dialect='duckdb')} "
                    "must read columns of exactly one record (l. or r.)"
                )
            sides.append((tables.pop(), _unqualified(expression)))
        (side_x, x), (_, y) = sides
        if sides[0][0] == sides[1][0]:
            raise UnsupportedForm(f"blocking rule {number} ({sql}) compares a record with itself")
        left.append(x if side_x == "l" else y)
        right.append(y if side_x == "l" else x)
    if not left:
        raise UnsupportedForm(f"blocking rule {number} ({sql}) has no equality between records")
    return BlockingRule(
        number,
        sql,
        _filtered(_key_sql(left), filters["l"]),
        _filtered(_key_sql(right), filters["r"]),
    )


def _filtered(key: str, conditions: list[str]) -> str:
    if not conditions:
        return key
    return f"case when {' and '.join(f'({c})' for c in conditions)} then {key} end"


def _unqualified(expression: exp.Expression, cast: bool = True) -> str:
    bare = expression.copy().transform(
        lambda n: exp.column(n.name, quoted=True) if isinstance(n, exp.Column) else n
    )
    return f"cast({bare.sql(dialect='duckdb')} as varchar)" if cast else bare.sql(dialect="duckdb")


def _key_sql(parts: list[str]) -> str:
    # `||` is NULL when any part is: a record lacking a part has no key for the rule
    return f" || {KEY_SEPARATOR} || ".join(parts)


def rule_lookups(rule: BlockingRule) -> list[tuple[str, str, str]]:
    """(tag, key expression of the index records, key expression of the incoming record)
    per lookup: one for a symmetric rule, two otherwise (the incoming record on either
    side of the pair)."""
    if rule.symmetric:
        return [(f"{rule.number}", rule.left_key, rule.left_key)]
    return [
        (f"{rule.number}r", rule.right_key, rule.left_key),
        (f"{rule.number}l", rule.left_key, rule.right_key),
    ]


# --- Publishing: keys, frequencies, model, reference data, indexes ---------------------------


def settings_of(con: duckdb.DuckDBPyConnection, table: str = CONFIGURATION_TABLE) -> dict:
    return dict(con.execute(f"select setting_name, setting_value from {table}").fetchall())


def prepare_published(con: duckdb.DuckDBPyConnection, build_alias: str = "build") -> str | None:
    """Add to a warehouse being published (current catalog; the build attached as
    `build_alias`) what resolve reads besides the marts: the reference tables the
    standardising SQL reads, the model the build scored with, the blocking keys of its
    rules and the term frequencies over resolve_index, and the indexes of the lookups.

    A model with a form resolve cannot score does not stop the publication (the marts are
    what readers need): the model is published without keys, and resolve refuses it,
    naming the comparison and level. Returns that reason, or None."""
    settings = settings_of(con)
    for name, value in settings.items():
        if name.startswith("reference_table:"):
            table = name.split(":", 1)[1]
            con.execute(f"create table {table} as select * from {build_alias}.{value}")
    path = model_path(settings.get("model_path") or None)
    model_json = path.read_text()
    con.execute(
        f"create table {MODEL_TABLE} as select "
        "cast($path as varchar) as model_path, cast($json as varchar) as model_json",
        {"path": str(path), "json": model_json},
    ).fetchall()
    try:
        model = load_model(json.loads(model_json))
    except UnsupportedForm as error:
        logger.warning("resolve is unavailable on this publication: model %s: %s", path, error)
        return str(error)
    lookups = [
        f"select '{tag}:' || ({index_key}) as blocking_key, person_record_id "
        f"from {INDEX_TABLE} where ({index_key}) is not null"
        for rule in model.rules
        for tag, index_key, _ in rule_lookups(rule)
    ]
    con.execute(
        f"create table {KEYS_TABLE} as select * from ({' union all '.join(lookups)}) "
        "order by blocking_key, person_record_id"
    ).fetchall()
    # Splink's term frequency: records with the value over records with any value
    # (splink.internals.term_frequencies), here over the published records
    frequencies = [
        f"select '{column}' as column_name, cast(\"{column}\" as varchar) as value, "
        "count(*) as record_count, "
        f'cast(count(*) as double) / (select count("{column}") from {INDEX_TABLE}) '
        f'as term_frequency from {INDEX_TABLE} where "{column}" is not null group by all'
        for column in dict.fromkeys([*model.tf_columns, *NAME_COUNT_COLUMNS])
    ]
    con.execute(
        f"create table {FREQUENCIES_TABLE} as {' union all '.join(frequencies)} order by 1, 2"
    ).fetchall()
    for table, column in (
        (KEYS_TABLE, "blocking_key"),
        (INDEX_TABLE, "person_record_id"),
        (INDEX_TABLE, "customer_id"),
        (FREQUENCIES_TABLE, "column_name, value"),
        ("customer_id_aliases", "customer_id"),
        ("customer_360", "customer_id"),
        ("customer_timeline", "customer_id"),
    ):
        if _is_table(con, table):
            name = f"{table}_{column.split(',')[0]}_idx"
            con.execute(f"create index {name} on {table} ({column})").fetchall()
    # the standardising SQL must run against what was published, or resolve would fail
    # on its first record instead of here
    phones.register_duckdb_udfs(con)
    con.execute(f"create temp table resolve_input as {_input_select()} limit 0").fetchall()
    con.execute(settings["standardise_sql"]).fetchall()
    con.execute("drop table resolve_input").fetchall()
    return None


def _is_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where table_name = $1 and database_name = "
            "current_database()",
            [name],
        ).fetchall()
    )


def _input_values(record: dict[str, Any]) -> dict[str, str | None]:
    """The raw fields of an incoming record as text; `name` is a full name."""
    unknown = set(record) - set(INPUT_FIELDS) - {"name"}
    if unknown:
        raise ResolveError(
            f"unknown field(s) {', '.join(sorted(unknown))}; expected name or "
            f"{', '.join(INPUT_FIELDS)}"
        )
    values = {name: record.get(name) for name in INPUT_FIELDS}
    if record.get("name") is not None:
        values["full_name"] = record["name"]
    return {k: (None if v is None or not str(v).strip() else str(v)) for k, v in values.items()}


def _input_select() -> str:
    fields = ", ".join(f"cast(null as varchar) as {name}" for name in INPUT_FIELDS)
    return f"select cast(null as integer) as input_id, {fields}"


# --- Resolving -------------------------------------------------------------------------------


@dataclass
class Candidate:
    """A published person record the incoming record was scored against."""

    person_record_id: str
    customer_id: str
    match_probability: float
    match_weight: float
    levels: dict[str, str]
    is_contradictory: bool


@dataclass
class Resolution:
    """The answer: the current customer id or "new", with the evidence."""

    customer_id: str
    match_probability: float | None
    matched_customer_id: str | None  # the id in the index, before customer_id_aliases
    record: dict[str, Any]  # the incoming record as standardised
    candidates: list[Candidate]
    refusals: list[dict[str, str]]  # candidate customers the guards kept apart, and why
    reason: str
    profile: dict[str, Any] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def is_new(self) -> bool:
        return self.customer_id == NEW

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "timings_ms"},
            "is_new": self.is_new,
        }


class Resolver:
    """Resolve incoming records against one published warehouse (read-only; one thread).

    Opening reads the configuration, model and reference tables once; each `resolve` is a
    few indexed lookups and some arithmetic."""

    def __init__(self, db_path: Path | str = DEFAULT_DB, threads: int = 1) -> None:
        self.db_path = Path(db_path)
        if not self.db_path.is_file():
            raise ResolveError(
                f"No published warehouse at {self.db_path}: run `make build` (or `make "
                "publish` after a passing build) first"
            )
        self.con = duckdb.connect(str(self.db_path), read_only=True)
        self.con.execute(f"set threads = {int(threads)}").fetchall()
        # staging's phone rule is a Python UDF (c360.dbt_plugin registers it for dbt)
        phones.register_duckdb_udfs(self.con)
        if self._exists(MODEL_TABLE):
            # the model first: a publication whose model resolve cannot score has no keys
            ((path, model_json),) = self.con.execute(
                f"select model_path, model_json from {MODEL_TABLE}"
            ).fetchall()
            try:
                self.model = load_model(json.loads(model_json))
            except UnsupportedForm as error:
                raise ResolveError(
                    f"model {path} (published with {self.db_path}): {error}"
                ) from error
        missing = [
            table for table in (*PUBLISHED_TABLES, "customer_id_aliases") if not self._exists(table)
        ]
        if missing:
            raise ResolveError(
                f"{self.db_path} has no {', '.join(missing)}: it is not a published warehouse, "
                "or was published before resolve existed. Run `make build` (which publishes)."
            )
        self.settings = settings_of(self.con)
        self.threshold = float(self.settings["match_threshold"])
        self.max_cluster_size = int(self.settings["max_cluster_size"])
        self.contradicting = {
            name: {g for g, label in self.model.labels[name].items() if label in labels}
            for name, labels in CONTRADICTING_LEVELS.items()
            if name in self.model.labels
        }
        self.con.execute(f"create temp table resolve_input as {_input_select()} limit 0").fetchall()
        keys = ", ".join(
            f'{probe_key} as "key_{tag}"'
            for rule in self.model.rules
            for tag, _, probe_key in rule_lookups(rule)
        )
        self.tags = [tag for rule in self.model.rules for tag, _, _ in rule_lookups(rule)]
        self.standardise_sql = (
            f"select standardised.*, {keys} from ({self.settings['standardise_sql']}) "
            "as standardised"
        )
        # Prepared once: binding and planning the standardising SQL (hundreds of nested
        # expressions, as staging's macros expand) is most of its cost, and one row gains
        # nothing from the optimizer, which is on again for the indexed lookups.
        self.con.execute("set enable_optimizer = false").fetchall()
        self.con.execute(f"prepare resolve_standardise as {self.standardise_sql}").fetchall()
        self.con.execute("set enable_optimizer = true").fetchall()
        self.index_columns = [
            row[0]
            for row in self.con.execute(
                f"select column_name from information_schema.columns where table_name = "
                f"'{INDEX_TABLE}' order by ordinal_position"
            ).fetchall()
        ]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _exists(self, table: str) -> bool:
        return bool(
            self.con.execute(
                "select 1 from information_schema.tables where table_name = $1", [table]
            ).fetchall()
        )

    # -- steps --

    def standardise(self, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The incoming record standardised by staging's macros, and its blocking keys.
        An unparseable date, email or phone is an error naming the value."""
        values = _input_values(record)
        if not any(v and v.strip() for v in values.values()):
            raise ResolveError(
                "nothing to match on: give at least one of email, name, phone, birth_date, "
                "postal_code, street_address"
            )
        ((standardised, keys),) = self.standardise_many([values])
        if standardised.pop("dq_birth_date_unparseable") and values["birth_date"]:
            raise ResolveError(
                f"birth_date {values['birth_date']!r} is not a date staging can parse "
                "(e.g. 1984-03-05, 03/05/1984, 05.03.1984) or is out of range"
            )
        for flag, name in (("dq_email_unparseable", "email"), ("dq_phone_unparseable", "phone")):
            if standardised.pop(flag) and values[name]:
                raise ResolveError(f"{name} {values[name]!r} is not a valid {name}")
        return standardised, keys

    def standardise_many(
        self, records: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """Records standardised together, in order, with their blocking keys and the data
        quality flags. Together as in a staging table: an email or phone carried by more
        than junk_identifier_max_people of them is junk, as staging decides per table."""
        rows = [
            [i, *(_input_values(r)[name] for name in INPUT_FIELDS)] for i, r in enumerate(records)
        ]
        self.con.execute("delete from resolve_input").fetchall()
        self.con.executemany(
            f"insert into resolve_input values (?, {', '.join('?' * len(INPUT_FIELDS))})", rows
        ).fetchall()
        # DuckDB plans the prepared statement again on execute; without the optimizer,
        # which one small input gains nothing from, that is a good part cheaper
        self.con.execute("set enable_optimizer = false").fetchall()
        try:
            cursor = self.con.execute("execute resolve_standardise")
            columns = [d[0] for d in cursor.description]
            output = sorted(cursor.fetchall())
        finally:
            self.con.execute("set enable_optimizer = true").fetchall()
        results = []
        for values in output:
            row = dict(zip(columns, values, strict=True))
            row.pop("input_id")
            keys = {tag: row.pop(f"key_{tag}") for tag in self.tags}
            results.append((row, keys))
        return results

    def blocking_keys(self, standardised: dict[str, Any]) -> dict[str, str]:
        """The blocking keys of a record already standardised (a published one), computed
        by the same SQL as an incoming record's."""
        columns = ", ".join(
            f"cast(${i} as {'date' if c == 'birth_date' else 'varchar'}) as {c}"
            for i, c in enumerate(MATCH_FIELDS, 1)
        )
        keys = ", ".join(
            f'{probe_key} as "{tag}"'
            for rule in self.model.rules
            for tag, _, probe_key in rule_lookups(rule)
        )
        (row,) = self.con.execute(
            f"select {keys} from (select {columns})", [standardised.get(c) for c in MATCH_FIELDS]
        ).fetchall()
        return dict(zip(self.tags, row, strict=True))

    def published_keys(self) -> dict[str, dict[str, str]]:
        """Per published record, its blocking keys as an incoming record's (`blocking_keys`
        of every record at once)."""
        keys = ", ".join(
            f'{probe_key} as "{tag}"'
            for rule in self.model.rules
            for tag, _, probe_key in rule_lookups(rule)
        )
        rows = self.con.execute(f"select person_record_id, {keys} from {INDEX_TABLE}").fetchall()
        return {row[0]: dict(zip(self.tags, row[1:], strict=True)) for row in rows}

    def candidates(self, keys: dict[str, str]) -> list[dict[str, Any]]:
        """Published records sharing a blocking key with the incoming record."""
        wanted = [f"{tag}:{key}" for tag, key in keys.items() if key is not None]
        if not wanted:
            return []
        # one IN list, which the index answers key by key without a scan
        ids = [
            row[0]
            for row in self.con.execute(
                f"select distinct person_record_id from {KEYS_TABLE}"
                f" where blocking_key in ({', '.join('?' * len(wanted))})",
                wanted,
            ).fetchall()
        ]
        return self._records("person_record_id", ids)

    def _records(self, column: str, values: list[str]) -> list[dict[str, Any]]:
        if not values:
            return []
        # one IN list, which the index answers key by key: one select per value (a union)
        # costs a plan per value, which made the resolves with many candidates the slowest
        cursor = self.con.execute(
            f"select * from {INDEX_TABLE} where {column} in ({', '.join('?' * len(values))})"
            " order by person_record_id",
            values,
        )
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def term_frequencies(self, column: str, values: list[Any]) -> dict[str, tuple[float, int]]:
        wanted = sorted({_text(v) for v in values if v is not None})
        if not wanted:
            return {}
        lookups = " union all ".join(
            f"select value, term_frequency, record_count from {FREQUENCIES_TABLE} "
            f"where column_name = $1 and value = ${i}"
            for i in range(2, len(wanted) + 2)
        )
        rows = self.con.execute(lookups, [column, *wanted]).fetchall()
        return {value: (tf, count) for value, tf, count in rows}

    def score(
        self, left: dict, right: dict, tf: dict[str, dict[str, tuple[float, int]]]
    ) -> tuple[float, float, dict[str, int]]:
        """(match probability, match weight, gamma per comparison) of one pair, as Splink's
        predict computes them (splink.internals.predict: prior weight plus each comparison's
        level weight and term-frequency adjustment)."""
        weight = self.model.prior_match_weight
        gammas = {}
        for comparison in self.model.comparisons:
            for level in comparison.levels:
                if level.condition is None or level.condition(left, right) is True:
                    break
            gammas[comparison.name] = level.gamma
            weight += level.match_weight
            if level.tf_column:
                frequencies = tf.get(level.tf_column, {})
                tf_l = frequencies.get(_text(left.get(level.tf_column)), (None,))[0]
                tf_r = frequencies.get(_text(right.get(level.tf_column)), (None,))[0]
                first = tf_l if tf_l is not None else tf_r
                if first is not None:
                    second = tf_r if tf_r is not None else tf_l
                    largest = max(first, second, level.tf_minimum_u)
                    weight += level.tf_weight * (level.tf_log2_u_exact - math.log2(largest))
        if weight >= 0:
            probability = 1.0 / (1.0 + 2.0 ** (-weight))
        else:
            probability = 2.0**weight / (1.0 + 2.0**weight)
        return probability, weight, gammas

    def _is_contradictory(self, gammas: dict[str, int]) -> bool:
        if len(self.contradicting) < len(CONTRADICTING_LEVELS):
            return False
        return all(gammas.get(name) in values for name, values in self.contradicting.items())

    def guard_name_counts(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Records per first name the guards read for `rows`: their names and those names'
        nicknames, as the build counts them (clustering._name_counts): the nickname-typo
        guard compares a spelling with its nickname's count, the similar-names rule with
        the other name's."""
        values = {row.get(column) for row in rows for column in NAME_COUNT_COLUMNS}
        values.discard(None)
        # a nickname is a key, never a canonical name: looked up in both columns
        values.update(*(nicknames().get(value, ()) for value in list(values)))
        names: dict[str, int] = {}
        for column in NAME_COUNT_COLUMNS:
            for value, (_, count) in self.term_frequencies(column, sorted(values)).items():
                names[value] = max(names.get(value, 0), count)
        return names

    def guard_refusal(self, record: dict[str, Any], members: list[dict[str, Any]]) -> str | None:
        """Why the clustering guards keep the incoming record out of a customer whose
        records are `members` (clustering.GuardedClusters.refusal), or None."""
        incoming = {**{c: record.get(c) for c in GUARD_COLUMNS}, "person_record_id": "\x00input"}
        rows = [incoming] + [{c: m.get(c) for c in GUARD_COLUMNS} for m in members]
        table = pa.Table.from_pylist(rows)
        clusters = GuardedClusters(
            table, [], self.max_cluster_size, self.guard_name_counts(rows), ALL_RULES
        )
        first = members[0]["person_record_id"]
        for member in members[1:]:  # already one customer: merged as the build merged them
            clusters.union(first, member["person_record_id"], guarded=False)
        return clusters.refusal(
            clusters.clusters[clusters.find("\x00input")], clusters.clusters[clusters.find(first)]
        )

    def current_id(self, customer_id: str) -> str | None:
        rows = self.con.execute(
            "select current_customer_id from customer_id_aliases where customer_id = $1",
            [customer_id],
        ).fetchall()
        return rows[0][0] if rows else customer_id

    def resolve(
        self, record: dict[str, Any], profile: bool = False, record_id: str | None = None
    ) -> Resolution:
        """Resolve one incoming record (raw fields: INPUT_FIELDS, or `name` for a full name).

        record_id: the incoming record's own person_record_id, when it has one: pairs are
        then ordered by id as the build orders them (a level comparing the left record's
        first name with the right's last name depends on the order), and the record is not
        compared with itself. Without one, the incoming record is the left of every pair."""
        start = time.perf_counter()
        standardised, keys = self.standardise(record)
        took = (time.perf_counter() - start) * 1000
        resolution = self.resolve_standardised(standardised, keys, profile, record_id)
        resolution.timings_ms = {"standardise": took, **resolution.timings_ms}
        return resolution

    def resolve_standardised(
        self,
        standardised: dict[str, Any],
        keys: dict[str, str],
        profile: bool = False,
        record_id: str | None = None,
    ) -> Resolution:
        """`resolve` of a record already standardised (`standardise`), e.g. a published one."""
        clock = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[step] = (now - clock) * 1000
            clock = now

        if not any(standardised.get(c) is not None for c in MATCH_FIELDS):
            raise ResolveError(
                "nothing to match on: the record has no email, name, phone, date of birth, "
                "postal code or street left after standardising (junk or empty values)"
            )
        found = [c for c in self.candidates(keys) if c["person_record_id"] != record_id]
        lap("candidates")
        tf = {
            column: self.term_frequencies(
                column, [standardised.get(column)] + [c[column] for c in found]
            )
            for column in self.model.tf_columns
        }
        scored = []
        for candidate in found:
            if record_id is not None and candidate["person_record_id"] < record_id:
                probability, weight, gammas = self.score(candidate, standardised, tf)
            else:
                probability, weight, gammas = self.score(standardised, candidate, tf)
            scored.append(
                Candidate(
                    candidate["person_record_id"],
                    candidate["customer_id"],
                    probability,
                    weight,
                    {name: self.model.labels[name][g] for name, g in gammas.items()},
                    self._is_contradictory(gammas),
                )
            )
        scored.sort(key=lambda c: (-c.match_probability, c.person_record_id))
        lap("score")
        best: dict[str, Candidate] = {}
        for candidate in scored:
            if candidate.match_probability >= self.threshold and not candidate.is_contradictory:
                best.setdefault(candidate.customer_id, candidate)
        refusals = []
        resolution = None
        for customer_id, candidate in best.items():
            members = self._records("customer_id", [customer_id])
            reason = self.guard_refusal(standardised, members)
            if reason:
                refusals.append({"customer_id": customer_id, "guard": reason})
                continue
            current = self.current_id(customer_id)
            if current is None:
                refusals.append({"customer_id": customer_id, "guard": "retired_id"})
                continue
            resolution = Resolution(
                customer_id=current,
                match_probability=candidate.match_probability,
                matched_customer_id=customer_id,
                record={c: standardised.get(c) for c in MATCH_FIELDS},
                candidates=scored,
                refusals=refusals,
                reason=(
                    f"matched {candidate.person_record_id} at {candidate.match_probability:.4f}"
                    f" (threshold {self.threshold})"
                ),
            )
            break
        lap("guards")
        if resolution is None:
            top = scored[0].match_probability if scored else None
            if refusals:
                reason = "refused by the clustering guards: " + ", ".join(
                    f"{r['customer_id']} ({r['guard']})" for r in refusals
                )
            elif not any(keys.values()):
                reason = (
                    "no blocking key: the record lacks every combination of identifiers the "
                    "model's blocking rules look candidates up by"
                )
            elif not scored:
                reason = "no published record shares a blocking key"
            else:
                reason = f"no candidate at or above the match threshold {self.threshold}"
            resolution = Resolution(
                NEW,
                top,
                None,
                {c: standardised.get(c) for c in MATCH_FIELDS},
                scored,
                refusals,
                reason,
            )
        if profile:
            resolution.profile = self.profile(
                resolution.customer_id if not resolution.is_new else None
            )
            lap("profile")
        resolution.timings_ms = timings
        return resolution

    def profile(self, customer_id: str | None, timeline_rows: int = 10) -> dict[str, Any] | None:
        """The customer's customer_360 row and latest customer_timeline rows."""
        if customer_id is None:
            return None
        cursor = self.con.execute(
            "select * from customer_360 where customer_id = $1", [customer_id]
        )
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        cursor = self.con.execute(
            "select * from customer_timeline where customer_id = $1 "
            f"order by event_at desc, timeline_event_id limit {int(timeline_rows)}",
            [customer_id],
        )
        timeline_columns = [d[0] for d in cursor.description]
        return {
            "customer_360": dict(zip(columns, rows[0], strict=True)) if rows else None,
            "timeline": [dict(zip(timeline_columns, r, strict=True)) for r in cursor.fetchall()],
        }


# --- Benchmark -------------------------------------------------------------------------------

PROBE_KINDS = ("as_is", "email_blanked", "stranger")


def bench_probes(resolver: Resolver, count: int, seed: int = 1) -> list[tuple[str, dict, str]]:
    """(kind, raw record, expected customer id or NEW) for `count` probes drawn from the
    index in equal thirds: a record as it is, the same with its email blanked, and a
    stranger (an unknown email, a made-up first name and date of birth, beside another
    record's phone and last name: shares keys with published records, matches none)."""
    rows = resolver.con.execute(
        f"select * from {INDEX_TABLE} where first_name_key is not null "
        f"order by hash(person_record_id || $1) limit $2",
        [str(seed), count],
    ).fetchall()
    columns = resolver.index_columns
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    if not records:
        raise ResolveError("the published resolve_index has no records to draw probes from")
    rng = random.Random(seed)
    probes = []
    for i in range(count):
        record = records[i % len(records)]
        kind = PROBE_KINDS[i % len(PROBE_KINDS)]
        raw = {
            "first_name": record["first_name_key"],
            "last_name": record["last_name_key"],
            "email": record["email_key"],
            "phone": record["phone_e164"],
            "birth_date": _text(record["birth_date"]),
            "street_address": record["street_key"],
            "postal_code": record["postal_code"],
        }
        expected = record["customer_id"]
        if kind == "email_blanked":
            raw["email"] = None
        elif kind == "stranger":
            other = records[rng.randrange(len(records))]
            raw = {
                "first_name": "zz" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(6)),
                "last_name": other["last_name_key"],
                "email": f"nobody{rng.randrange(10**9)}@example.invalid",
                "phone": other["phone_e164"],
                "birth_date": (
                    dt.date(1930, 1, 1) + dt.timedelta(rng.randrange(25000))
                ).isoformat(),
            }
            expected = NEW
        probes.append((kind, raw, expected))
    return probes


def bench(resolver: Resolver, count: int, seed: int = 1) -> dict[str, Any]:
    """Latency per resolve (one thread; wall clock and CPU time) over `count` probes
    (bench_probes), with the outcomes per kind of probe."""
    probes = bench_probes(resolver, count, seed)
    resolver.resolve(probes[0][1])  # first call pays one-off costs (caches, page reads)
    latencies, cpu_times = [], []
    outcome: dict[str, dict[str, int]] = {kind: {} for kind in PROBE_KINDS}
    steps: dict[str, list[float]] = {}
    for kind, raw, expected in probes:
        start, start_cpu = time.perf_counter(), time.process_time()
        resolution = resolver.resolve(raw)
        latencies.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - start_cpu) * 1000)
        for step, ms in resolution.timings_ms.items():
            steps.setdefault(step, []).append(ms)
        if resolution.customer_id == expected:
            verdict = "expected"
        elif resolution.is_new:
            verdict = "new"
        else:
            verdict = "other_customer"
        outcome[kind][verdict] = outcome[kind].get(verdict, 0) + 1
    return {
        "probes": count,
        "seed": seed,
        "index_records": resolver.con.execute(f"select count(*) from {INDEX_TABLE}").fetchall()[0][
            0
        ],
        # wall time per resolve, and CPU time (this process, all threads): on a shared
        # machine the wall time waits for a core, the CPU time does not
        "latency_ms": _percentiles(latencies),
        "cpu_ms": _percentiles(cpu_times),
        "step_wall_ms_p50": {step: round(statistics.median(v), 2) for step, v in steps.items()},
        "outcomes": outcome,
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)], 2)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 2)}


# --- Command line ----------------------------------------------------------------------------


def _render(resolution: Resolution) -> str:
    lines = []
    if resolution.is_new:
        lines.append(f"customer: new ({resolution.reason})")
    else:
        lines.append(f"customer: {resolution.customer_id}")
        if resolution.matched_customer_id != resolution.customer_id:
            lines.append(f"  (found as {resolution.matched_customer_id}, merged since)")
        lines.append(f"match probability: {resolution.match_probability:.6f}")
        lines.append(f"evidence: {resolution.reason}")
    shown = {k: v for k, v in resolution.record.items() if v is not None and not k.startswith("dq")}
    lines.append("standardised: " + ", ".join(f"{k}={_text(v)}" for k, v in shown.items()))
    for refusal in resolution.refusals:
        lines.append(f"refused by the guards: {refusal['customer_id']} ({refusal['guard']})")
    lines.append(f"candidates: {len(resolution.candidates)}")
    for candidate in resolution.candidates[:10]:
        levels = "; ".join(f"{k}: {v}" for k, v in candidate.levels.items())
        flag = " [contradictory]" if candidate.is_contradictory else ""
        lines.append(
            f"  {candidate.match_probability:.6f}  {candidate.person_record_id} "
            f"({candidate.customer_id}){flag}\n      {levels}"
        )
    if len(resolution.candidates) > 10:
        lines.append(f"  ... {len(resolution.candidates) - 10} more (--json lists them all)")
    if resolution.profile:
        row = resolution.profile["customer_360"] or {}
        lines.append("profile (customer_360):")
        lines.extend(f"  {k}: {_text(v)}" for k, v in row.items() if v is not None)
        lines.append("recent timeline (customer_timeline):")
        for event in resolution.profile["timeline"]:
            lines.append(
                f"  {_text(event.get('event_at'))}  {event.get('event_category')}/"
                f"{event.get('event_type')}  {event.get('event_detail') or ''}"
            )
    return "\n".join(lines)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m c360.identity.resolve", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="the published warehouse")
    parser.add_argument("--email")
    parser.add_argument("--name", help='full name, "First Last" (split as support tickets are)')
    parser.add_argument("--first-name")
    parser.add_argument("--last-name")
    parser.add_argument("--phone")
    parser.add_argument("--birth-date", help="as the sources write it (1984-03-05, 03/05/1984)")
    parser.add_argument("--postal-code")
    parser.add_argument("--street", help="street address, e.g. '860 Mill Ave'")
    parser.add_argument("--profile", action="store_true", help="add customer_360 and timeline")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--bench", type=int, metavar="N", help="time N probes drawn from the index")
    parser.add_argument("--seed", type=int, default=1, help="seed of the --bench probes")
    args = parser.parse_args(argv)
    record = {
        "name": args.name,
        "first_name": args.first_name,
        "last_name": args.last_name,
        "email": args.email,
        "phone": args.phone,
        "birth_date": args.birth_date,
        "postal_code": args.postal_code,
        "street_address": args.street,
    }
    try:
        with Resolver(args.db) as resolver:
            if args.bench:
                result = bench(resolver, args.bench, args.seed)
                print(json.dumps(result, indent=2))
                return 0
            if not any(record.values()):
                raise ResolveError(
                    "nothing to match on: give at least one of --email, --name, --phone, "
                    "--birth-date, --postal-code, --street"
                )
            resolution = resolver.resolve(record, profile=args.profile)
    except ResolveError as error:
        print(f"resolve: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(resolution.as_dict(), indent=2, default=_json_default))
    else:
        print(_render(resolution))
    return 0


if __name__ == "__main__":
    sys.exit(main())
