"""Score record pairs with the committed Splink model, on Splink's own DuckDB connection.

Splink creates tables (and may change the schema) on the connection it is given, so it
never gets dbt's: records come in as an Arrow table and scored pairs go out as one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from splink import DuckDBAPI, Linker
from sqlglot import exp

from c360.identity.splink_settings import UNIQUE_ID

MODEL_PATH = Path(__file__).with_name("person_model.json")
MATCH_COLUMNS = [
    UNIQUE_ID,
    "first_name_key",
    "first_name_canonical",
    "last_name_key",
    "email_key",
    "email_handle",
    "phone_e164",
    "birth_date",
    "postal_code",
    "postal_code_key",
    "street_key",
    "street_number",
    "street_name_key",
]
# The identifiers a model may compare (the other match columns are keys derived from them).
IDENTIFIER_COLUMNS = [
    "first_name_key",
    "last_name_key",
    "email_key",
    "phone_e164",
    "birth_date",
    "postal_code_key",
    "street_key",
]
PAIR_SCHEMA = pa.schema(
    [
        ("person_record_id_l", pa.string()),
        ("person_record_id_r", pa.string()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
        ("match_key", pa.string()),
        ("comparison_levels", pa.string()),
        ("is_contradictory", pa.bool_()),
    ]
)
# A pair whose first names differ ("All other comparisons") and whose dates of birth do
# not vouch for it (they differ, or one record has none: "null") is two people whatever
# else it shares: a household shares its last name, address, phone and often an email,
# which Splink adds up as if they were independent. The guards refuse such a pair (a
# different first name is forgiven only beside the same date of birth); clustering skips
# it, which at scale spares the guards most of a household's pairs.
CONTRADICTING_LEVELS = {
    "first_name": {"All other comparisons"},
    "birth_date": {"All other comparisons", "Within a year", "null"},
}


def model_path(configured: str | None = None) -> Path:
    """The model a build scores with: `configured` (var identity_model_path) when set, the
    committed one otherwise. A configured file that does not exist is an error naming it."""
    if not configured:
        return MODEL_PATH
    path = Path(configured)
    if not path.is_file():
        raise FileNotFoundError(
            f"identity model {path} (var identity_model_path / C360_IDENTITY_MODEL) not found"
        )
    return path


def splink_connection(threads: int = 2) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB connection for Splink, memory-capped so it spills to disk
    (C360_SPLINK_MEMORY_LIMIT, default 2GB) instead of taking the machine from dbt's own."""
    con = duckdb.connect()
    con.sql(f"set threads = {int(threads)}")
    limit = os.environ.get("C360_SPLINK_MEMORY_LIMIT", "2GB")
    con.sql(f"set memory_limit = '{limit}'")
    # an in-memory database spills to ./.tmp by default: keep it out of the project
    spill = os.environ.get("C360_SPLINK_TEMP_DIR", str(Path(tempfile.gettempdir()) / "c360_splink"))
    con.sql(f"set temp_directory = '{spill}'")
    con.sql("set preserve_insertion_order = false")
    return con


def linker_for(
    records: pa.Table,
    model: str | dict,
    threads: int = 2,
    tf_tables: dict[str, pa.Table] | None = None,
    validate: bool = True,
) -> Linker:
    """A Linker over `records` (only the matching columns) on its own connection, with the
    given term-frequency tables registered (otherwise Splink derives them from `records`).
    validate=False skips Splink's check of the settings' columns against the records (it
    parses every SQL condition of the model: worth it once per model, not per build)."""
    missing = [c for c in MATCH_COLUMNS if c not in records.column_names]
    if missing:
        raise ValueError(f"person records lack column(s) {', '.join(missing)} needed by Splink")
    db_api = DuckDBAPI(connection=splink_connection(threads))
    frame = db_api.register(records.select(MATCH_COLUMNS), table_name="person_records")
    linker = Linker(frame, model, log_level=logging.WARNING, validate_settings=validate)
    for column, table in (tf_tables or {}).items():
        lookup = db_api.register(table, table_name=f"frozen_tf_{column}")
        linker.table_management.register_term_frequency_lookup(lookup, column)
    return linker


def tf_columns(model: dict) -> list[str]:
    """The columns a saved model adjusts by term frequency."""
    found = {
        level["tf_adjustment_column"]
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        if level.get("tf_adjustment_column")
    }
    return sorted(found)


def compute_tf_tables(
    records: pa.Table, model_path: Path = MODEL_PATH, threads: int = 2
) -> dict[str, pa.Table]:
    """Splink's term-frequency table ({column}, tf_{column}) of each of the model's TF
    columns over `records`: what a build freezes so that adding records moves no score."""
    model = json.loads(Path(model_path).read_text())
    columns = tf_columns(model)
    if not columns or records.num_rows == 0:
        return {}
    linker = linker_for(records, model, threads)
    return {
        column: linker.table_management.compute_tf_table(column).as_pyarrow_table()
        for column in columns
    }


def comparison_column(comparison: dict) -> str:
    """The column a saved comparison is about: the one its null level tests."""
    for level in comparison["comparison_levels"]:
        if level.get("is_null_level"):
            found = re.search(r'"?(\w+)_l"? IS NULL', level["sql_condition"], re.IGNORECASE)
            if found:
                return found.group(1)
    raise ValueError(f"comparison {comparison['output_column_name']} has no null level")


COVERAGE_SCHEMA = pa.schema(
    [
        ("identifier", pa.string()),
        ("comparison", pa.string()),
        ("records_with_value", pa.int64()),
        ("coverage_status", pa.string()),
    ]
)


def model_coverage(presence: dict[str, int], model: dict) -> pa.Table:
    """Per identifier: the model's comparison of it, records with a value, and a status.

    `presence` is the number of person records with a value, per identifier column.
    compared: the model compares it and the records have it; no_data: the model compares
    it but fewer than two records have a value (its weights never apply: the model was
    trained on other data); not_compared: the records have it but the model ignores it;
    absent: neither. no_data and not_compared call for `make train`.
    """
    compared = {comparison_column(c): c["output_column_name"] for c in model["comparisons"]}
    rows = []
    for column in IDENTIFIER_COLUMNS:
        present = int(presence.get(column, 0))
        name = compared.get(column)
        if name is not None:
            status = "compared" if present >= 2 else "no_data"
        else:
            status = "not_compared" if present >= 2 else "absent"
        rows.append((column, name, present, status))
    return pa.table(list(map(list, zip(*rows, strict=True))), schema=COVERAGE_SCHEMA)


def level_labels(model: dict) -> dict[str, dict[int, str]]:
    """{gamma column: {level value: label}} from a saved model.

    Splink numbers a comparison's levels n-1 .. 0 in list order, the null level -1.
    """
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        value = sum(1 for level in levels if not level.get("is_null_level")) - 1
        mapping: dict[int, str] = {}
        for level in levels:
            if level.get("is_null_level"):
                mapping[-1] = "null"
            else:
                mapping[value] = level["label_for_charts"]
                value -= 1
        labels[f"gamma_{comparison['output_column_name']}"] = mapping
    return labels


def explain(pairs: pa.Table, labels: dict[str, dict[int, str]]) -> pa.Array:
    """One readable string per pair: which level each comparison reached.

    Each comparison has a handful of levels, so pairs share few distinct combinations of
    them: each combination's string is written once and every pair takes its own, several
    times faster than joining the parts pair by pair at millions of pairs (same strings).
    """
    if not labels:
        return pa.array([""] * pairs.num_rows, pa.string())
    # one code per pair for its levels: each comparison's value (None for a NULL) gets a
    # small index, and the indices are combined as digits of a mixed-radix number
    code = np.zeros(pairs.num_rows, np.int64)
    digits: list[list[int | None]] = []
    for column in labels:
        values = pairs.column(column).combine_chunks()
        distinct = pc.unique(values)
        positions = pc.index_in(values, value_set=distinct, skip_nulls=False)
        code = code * len(distinct) + positions.to_numpy(zero_copy_only=False)
        digits.append(distinct.to_pylist())
    combinations, pair_combination = np.unique(code, return_inverse=True)
    texts = []
    for combination in combinations.tolist():
        parts = []
        for (column, mapping), values in zip(
            reversed(labels.items()), reversed(digits), strict=True
        ):
            combination, position = divmod(combination, len(values))
            value = values[position]
            shown = "None" if value is None else mapping.get(value, value)
            parts.append(f"{column.removeprefix('gamma_')}: {shown}")
        texts.append("; ".join(reversed(parts)))
    return pa.array(texts, pa.string()).take(pa.array(pair_combination.ravel()))


def score_pairs(
    records: pa.Table,
    threshold: float = 0.05,
    model_path: Path = MODEL_PATH,
    threads: int = 2,
    tf_tables: dict[str, pa.Table] | None = None,
) -> pa.Table:
    """Pairs of person records with match probability >= threshold, with their evidence.

    tf_tables (compute_tf_tables) freeze the term frequencies; without them Splink derives
    them from `records`, so adding records would move the scores of old pairs."""
    if records.num_rows < 2:
        return PAIR_SCHEMA.empty_table()
    model = json.loads(Path(model_path).read_text())
    linker = linker_for(records, model, threads, tf_tables)
    scored = linker.inference.predict(threshold_match_probability=threshold).as_pyarrow_table()
    return _pairs_of(scored, model)


def score_new_pairs(
    existing: pa.Table,
    new: pa.Table,
    tf_tables: dict[str, pa.Table],
    threshold: float = 0.05,
    model_path: Path = MODEL_PATH,
    threads: int = 2,
) -> pa.Table:
    """The pairs a full score_pairs over existing + new would add to those among `existing`:
    new x existing (predict_between) and new x new (predict_within), scored with the frozen
    tf_tables, in score_pairs' shape (the smaller record key on the left).

    Some levels are not symmetric (first name equal to the *other's* last name), so a pair
    scores as predict() scores it only with the smaller key on the left: predict_between
    runs both ways round and each pair is kept from the run that had it that way round
    (Splink's blocking then also matches predict()'s, rule for rule)."""
    if new.num_rows == 0:
        return PAIR_SCHEMA.empty_table()
    model = json.loads(Path(model_path).read_text())
    # the records carry every MATCH_COLUMNS column (checked here) and the model is the one
    # a full step scores with, validated there
    linker = linker_for(existing, model, threads, tf_tables, validate=False)
    db_api = linker._db_api  # the Linker's own connection: both frames must live on it
    new_frame = db_api.register(new.select(MATCH_COLUMNS), table_name="new_person_records")
    parts = []
    if existing.num_rows:
        existing_frame = db_api.register(
            existing.select(MATCH_COLUMNS), table_name="existing_person_records"
        )
        for left, right in ((existing_frame, new_frame), (new_frame, existing_frame)):
            scored = linker.inference.predict_between(
                left, right, threshold_match_probability=threshold
            ).as_pyarrow_table()
            parts.append(
                scored.filter(
                    pc.less(scored.column(f"{UNIQUE_ID}_l"), scored.column(f"{UNIQUE_ID}_r"))
                )
            )
    if new.num_rows > 1:
        parts.append(
            linker.inference.predict_within(
                new_frame, threshold_match_probability=threshold
            ).as_pyarrow_table()
        )
    pairs = [_pairs_of(part, model) for part in parts]
    return pa.concat_tables(pairs) if pairs else PAIR_SCHEMA.empty_table()


def blocking_partners_sql(model_path: Path, existing: str, new: str) -> str:
    """SQL selecting the UNIQUE_ID of every row of `existing` (a relation) that meets a row
    of `new` under one of the model's blocking rules, with `existing` on either side of the
    rule. predict_between pairs a new record only with these: the other existing records
    block with no new one, so leaving them out moves no score (the TF tables are frozen),
    and Splink then handles the few records that can pair instead of every record."""
    model = json.loads(Path(model_path).read_text())
    rules = [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]
    if not rules:
        raise ValueError(f"{model_path}: the model has no blocking rule to generate predictions")
    selects = []
    for rule in rules:
        selects.append(f"select l.{UNIQUE_ID} from {existing} as l join {new} as r on ({rule})")
        # each join reads every existing record: a rule that reads the same with l and r
        # swapped finds the same records either way round, so it is joined once
        if not symmetric_rule(rule):
            selects.append(f"select r.{UNIQUE_ID} from {new} as l join {existing} as r on ({rule})")
    return "\nunion\n".join(selects)


def _swapped(tree: exp.Expression) -> exp.Expression:
    """A copy of a blocking rule with l and r swapped."""
    swapped = tree.copy()
    for column in swapped.find_all(exp.Column):
        side = column.table.lower()
        if side in ("l", "r"):
            column.set("table", exp.to_identifier("r" if side == "l" else "l"))
    return swapped


def _conditions(rule: exp.Expression) -> list[exp.Expression]:
    rule = rule.unnest()
    return [c.unnest() for c in rule.flatten()] if isinstance(rule, exp.And) else [rule]


def _canonical(rule: exp.Expression, pinned: set[str]) -> list[str]:
    """The rule's AND-ed conditions as SQL, each equality with its sides in sorted order,
    and in the other conditions every pinned expression (one side of an equality between
    an expression of l and the same expression of r) as one placeholder: where the rule
    holds, that expression has the same value on both sides."""
    found = []
    for condition in _conditions(rule):
        if isinstance(condition, exp.EQ):
            sides = (condition.this, condition.expression)
            found.append("=".join(sorted(side.sql("duckdb") for side in sides)))
            continue
        condition = condition.copy().transform(
            lambda node: exp.column("__pinned") if node.sql("duckdb") in pinned else node
        )
        found.append(condition.sql("duckdb"))
    return sorted(found)


def symmetric_rule(rule: str) -> bool:
    """Whether a blocking rule (SQL over l and r) is the same rule with l and r swapped:
    the same AND-ed conditions, equalities read either way round, and a condition on one
    side only (e.g. a test of l's email) counts as the same on the other side when what
    it reads of that side is pinned equal to the other side's by an equality of the rule.
    False when unsure."""
    try:
        tree = sqlglot.parse_one(rule, read="duckdb")
    except sqlglot.errors.ParseError:
        return False
    pinned = set()
    for condition in _conditions(tree):
        if isinstance(condition, exp.EQ):
            left, right = condition.this, condition.expression
            if _swapped(left).sql("duckdb") == right.sql("duckdb") != left.sql("duckdb"):
                pinned |= {left.sql("duckdb"), right.sql("duckdb")}
    return _canonical(tree, pinned) == _canonical(_swapped(tree), pinned)


def _pairs_of(scored: pa.Table, model: dict) -> pa.Table:
    """Splink's predictions as PAIR_SCHEMA: ids, probability, weight, blocking rule, the
    level each comparison reached, and the contradiction flag."""
    if scored.num_rows == 0:
        return PAIR_SCHEMA.empty_table()
    labels = level_labels(model)
    return pa.table(
        [
            scored.column(f"{UNIQUE_ID}_l"),
            scored.column(f"{UNIQUE_ID}_r"),
            pc.cast(scored.column("match_probability"), pa.float64()),
            pc.cast(scored.column("match_weight"), pa.float64()),
            pc.cast(scored.column("match_key"), pa.string()),
            explain(scored, labels),
            contradictory(scored, labels),
        ],
        schema=PAIR_SCHEMA,
    )


def contradictory(scored: pa.Table, labels: dict[str, dict[int, str]]) -> pa.Array:
    """Per pair: did first name and date of birth both reach a CONTRADICTING_LEVELS level?
    False when the model does not compare both (a model trained on records without dates
    of birth leaves different first names to the guards)."""
    flags = None
    for comparison, contradicting in CONTRADICTING_LEVELS.items():
        column = f"gamma_{comparison}"
        if column not in labels or column not in scored.column_names:
            return pa.array([False] * scored.num_rows, pa.bool_())
        values = [value for value, label in labels[column].items() if label in contradicting]
        value_set = pa.array(values, scored.schema.field(column).type)
        hit = pc.fill_null(pc.is_in(scored.column(column), value_set=value_set), False)
        flags = hit if flags is None else pc.and_(flags, hit)
    return flags.combine_chunks() if isinstance(flags, pa.ChunkedArray) else flags
