"""Re-estimate the Splink model on the user's own records and write the committed JSON.

    python -m c360.identity.train --db target/customer_360.duckdb [--out PATH]

Builds predict with the committed model, so builds are deterministic; this command is
how that model changes. It looks at the records first: a comparison, blocking rule or
training rule whose columns hold no data (no email in a FEBRL-like export, say) is left
out and the report says so. Reviewers' decisions (seeds identity_must_link and
identity_pair_labels marked same person) estimate m as one more training session.
EM runs single-threaded so the same data gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from c360.identity.scoring import MATCH_COLUMNS, MODEL_PATH, comparison_column, linker_for
from c360.identity.splink_settings import (
    DETERMINISTIC_RULES,
    PREDICTION_RULES,
    TRAINING_RULES,
    UNIQUE_ID,
    Rule,
    comparisons,
    settings,
)
from c360.identity.workbench import records_sql

RECORDS_SQL = records_sql()
M_FLOOR = 0.001
# EM needs a few hundred pairs to say anything (Splink's own advice); past tens of millions
# a rule is quadratic on this data (first + last name alone, with common names) and would
# take the machine: it is skipped and the report says so.
MIN_EM_PAIRS = 100
MAX_EM_PAIRS = 20_000_000
# Share of true matches the deterministic rules are assumed to find (Splink's `recall`).
DETERMINISTIC_RECALL = 0.8
# Random sampling counts every agreeing pair as a non-match, which holds while matches are
# a negligible share of the agreeing pairs. For an identifier that is nearly one person's
# own (an email, a phone) they are most of them: its u came out many times too high, and
# two records sharing an email, nothing else known, scored below the threshold. The u of
# these comparisons' levels is counted instead over pairs that are surely two people: first
# names (canonical) and birth dates both present and different. Per column, the join key
# (of one record, `l` or `r`) every agreeing level implies: for an email the numbered
# handle, else the address (an email key holds an @, a handle never does, so the two never
# meet); an equi-join, not an `or` of two. With fewer agreeing pairs than
# MIN_COUNTED_U_PAIRS there is nothing to count: sampling's u stays.
COUNTED_U_JOINS = {
    "email_key": lambda side: f"coalesce({side}.email_handle, {side}.email_key)",
    "phone_e164": lambda side: f"{side}.phone_e164",
}
COUNTED_U_PEOPLE = ("first_name_canonical", "birth_date")
MIN_COUNTED_U_PAIRS = 10


@dataclass
class RuleChoice:
    """A candidate rule, its pair count on the data, and whether (and why) it is used."""

    rule: Rule
    pairs: int | None
    used: bool
    reason: str


def column_presence(records: pa.Table, columns: list[str]) -> dict[str, int]:
    """Records with a value, per column (0 for a column the table does not have)."""
    return {
        column: (
            records.num_rows - records.column(column).null_count
            if column in records.column_names
            else 0
        )
        for column in columns
    }


def pair_count(records: pa.Table, columns: tuple[str, ...]) -> int:
    """Pairs of records that agree on every column (Splink's blocked pairs for block_on)."""
    valid = records.select(list(columns))
    for column in columns:
        valid = valid.filter(pc.is_valid(valid.column(column)))
    if valid.num_rows == 0:
        return 0
    counts = valid.group_by(list(columns)).aggregate([([], "count_all")]).column("count_all")
    n = counts.to_numpy().astype("int64")
    return int((n * (n - 1) // 2).sum())


def _missing(rule: Rule, presence: dict[str, int]) -> list[str]:
    return [column for column in rule.columns if presence.get(column, 0) < 2]


def choose_rules(
    rules: list[Rule],
    records: pa.Table,
    presence: dict[str, int],
    min_pairs: int = MIN_EM_PAIRS,
    max_pairs: int = MAX_EM_PAIRS,
) -> list[RuleChoice]:
    """Which of `rules` can run on these records (columns with data, a workable number of
    pairs), with the reason for each."""
    choices = []
    for rule in rules:
        missing = _missing(rule, presence)
        if missing:
            choices.append(RuleChoice(rule, 0, False, f"no data in {', '.join(missing)}"))
            continue
        pairs = pair_count(records, rule.columns)
        if pairs < min_pairs:
            choices.append(
                RuleChoice(rule, pairs, False, f"{pairs:,d} pairs, fewer than {min_pairs}")
            )
        elif pairs > max_pairs:
            choices.append(
                RuleChoice(rule, pairs, False, f"{pairs:,d} pairs, more than {max_pairs:,d}")
            )
        else:
            choices.append(RuleChoice(rule, pairs, True, f"{pairs:,d} pairs"))
    return choices


def comparison_columns(comparison: dict) -> set[str]:
    """Every record column a saved comparison reads (its levels name them as col_l/col_r)."""
    return {
        column
        for level in comparison["comparison_levels"]
        for column in re.findall(r'"?(\w+)_[lr]\b"?', level["sql_condition"])
    }


def choose_training_rules(
    rules: list[Rule], records: pa.Table, presence: dict[str, int], model_comparisons: list[dict]
) -> list[RuleChoice]:
    """Training rules for EM: every usable personal rule, and a household rule only when it
    trains a comparison that the rules before it left fixed (EM learns nothing about the
    comparisons a rule blocks on)."""
    choices = choose_rules(rules, records, presence)
    columns = {c["output_column_name"]: comparison_columns(c) for c in model_comparisons}
    trained: set[str] = set()
    for choice in choices:
        if not choice.used:
            continue
        frees = {name for name, used in columns.items() if not used & set(choice.rule.columns)}
        if choice.rule.household and not frees - trained:
            choice.used = False
            choice.reason += (
                ": not needed, and a household shares it (EM would learn its members as one person)"
            )
            continue
        trained |= frees
    return choices


def different_people_u(
    records: pa.Table, comparison: dict, min_pairs: int = MIN_COUNTED_U_PAIRS
) -> tuple[list[float], int] | None:
    """u of each non-null level of a saved `comparison` on a COUNTED_U_JOINS column: the
    share of pairs of surely different people (COUNTED_U_PEOPLE both present and both
    different) at that level, counted exactly over `records`, and the pairs at an agreeing
    level. A level no such pair reaches gets one pair's share (not a weight of infinity).
    None when fewer than `min_pairs` pairs agree."""
    column = comparison_column(comparison)
    people = list(COUNTED_U_PEOPLE)
    compared = sorted(comparison_columns(comparison))
    if column not in COUNTED_U_JOINS or any(
        c not in records.column_names for c in {*compared, *people}
    ):
        return None
    levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
    if levels[-1]["sql_condition"].strip().upper() != "ELSE":
        return None
    con = duckdb.connect()
    con.register("records", records.select(list(dict.fromkeys([UNIQUE_ID, *compared, *people]))))
    present = " and ".join(f"{c} is not null" for c in [column, *people])
    con.sql(f"create table carriers as select * from records where {present}")

    def agreeing(*columns: str) -> int:
        keys = ", ".join(columns)
        return con.sql(
            f"select coalesce(sum(n * (n - 1) // 2), 0) from "
            f"(select count(*) as n from carriers group by {keys})"
        ).fetchall()[0][0]

    # pairs differing on both people columns: all pairs, less those agreeing on either
    n = con.sql("select count(*) from carriers").fetchall()[0][0]
    different = n * (n - 1) // 2 - agreeing(people[0]) - agreeing(people[1]) + agreeing(*people)
    join = COUNTED_U_JOINS[column]
    sides = ", ".join(f"l.{c} as {c}_l, r.{c} as {c}_r" for c in compared)
    differ = " and ".join(f"l.{c} <> r.{c}" for c in people)
    # the levels' own SQL, first that holds, as Splink evaluates them
    level = " ".join(f"when {lv['sql_condition']} then {i}" for i, lv in enumerate(levels[:-1]))
    counts = dict(
        con.sql(
            f"""
            with pairs as (
                select {sides}
                from carriers as l
                inner join carriers as r
                    on {join("l")} = {join("r")}
                    and l.{UNIQUE_ID} < r.{UNIQUE_ID} and {differ}
            )
            select case {level} end as level, count(*) from pairs group by all
            """
        ).fetchall()
    )
    con.close()
    agree = sum(count for i, count in counts.items() if i is not None)
    if agree < min_pairs or different <= 0:
        return None
    u = [max(counts.get(i, 0), 1) / different for i in range(len(levels) - 1)]
    return [*u, 1.0 - sum(u)], agree


def count_u_over_different_people(
    model: dict, records: pa.Table
) -> dict[str, tuple[float | None, float, int]]:
    """Replace, in `model`, the sampled u of each COUNTED_U_JOINS comparison's levels with
    `different_people_u`; returns {column: (sampled u, counted u, agreeing pairs)} of the
    first agreeing level (the exact match) of each comparison replaced; a level random
    sampling never reached has no sampled u."""
    counted = {}
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        found = different_people_u(records, comparison)
        if found is None:
            continue
        u, pairs = found
        counted[comparison_column(comparison)] = (levels[0].get("u_probability"), u[0], pairs)
        for level, value in zip(levels, u, strict=True):
            level["u_probability"] = value
    return counted


@dataclass
class TrainingReport:
    records: int
    presence: dict[str, int]
    comparisons_kept: list[str]
    comparisons_dropped: list[str]
    prediction_rules: list[RuleChoice]
    training_rules: list[RuleChoice]
    deterministic_rules: list[RuleChoice]
    untrained: list[str]
    labelled_pairs: int
    counted_u: dict[str, tuple[float | None, float, int]]


def _kept_comparisons(presence: dict[str, int]) -> tuple[list, list[str], list[str]]:
    """Comparisons whose column has data in at least two records, and the names of both."""
    kept, kept_names, dropped_names = [], [], []
    for creator in comparisons():
        column = creator.create_comparison_dict("duckdb")
        name, subject = column["output_column_name"], comparison_column(column)
        if presence.get(subject, 0) >= 2:
            kept.append(creator)
            kept_names.append(name)
        else:
            dropped_names.append(name)
    return kept, kept_names, dropped_names


def train(
    records: pa.Table, out: Path = MODEL_PATH, labels: pa.Table | None = None
) -> tuple[dict, TrainingReport]:
    """Estimate lambda, u (random sampling; email and phone counted over pairs of different
    people, `count_u_over_different_people`), m (EM per usable training rule, and pairwise
    labels when given: person_record_id_l, person_record_id_r of pairs known to be one
    person); save to `out`. Only comparisons and rules whose columns hold data are kept."""
    # one order whatever the warehouse returns: sums in another order differ in the last bit
    records = records.sort_by(UNIQUE_ID)
    presence = column_presence(records, MATCH_COLUMNS)
    kept, kept_names, dropped_names = _kept_comparisons(presence)
    if not kept:
        raise ValueError(
            "no comparison has data: the person records carry none of "
            + ", ".join(c for c in MATCH_COLUMNS if c != UNIQUE_ID)
        )
    prediction = [
        RuleChoice(rule, None, not _missing(rule, presence), _reason(rule, presence))
        for rule in PREDICTION_RULES
    ]
    training = choose_training_rules(
        TRAINING_RULES, records, presence, [c.create_comparison_dict("duckdb") for c in kept]
    )
    deterministic = choose_rules(DETERMINISTIC_RULES, records, presence, 1, max_pairs=10**12)

    model_settings = settings(
        [choice.rule for choice in prediction if choice.used] or [PREDICTION_RULES[0]], kept
    )
    linker = linker_for(records, model_settings, threads=1)
    rules = [choice.rule.creator for choice in deterministic if choice.used]
    if rules:
        linker.training.estimate_probability_two_random_records_match(
            rules, recall=DETERMINISTIC_RECALL
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    # u is fixed during EM, so it is counted before EM learns m against it
    sampled = linker.misc.save_model_to_json()
    counted_u = count_u_over_different_people(sampled, records)
    if counted_u:
        linker = linker_for(records, sampled, threads=1)
    for choice in training:
        if choice.used:
            linker.training.estimate_parameters_using_expectation_maximisation(choice.rule.creator)
    labelled = 0
    if labels is not None and labels.num_rows:
        known = set(records.column(UNIQUE_ID).to_pylist())
        pairs = [
            (a, b) if a < b else (b, a)
            for a, b in zip(
                labels.column(f"{UNIQUE_ID}_l").to_pylist(),
                labels.column(f"{UNIQUE_ID}_r").to_pylist(),
                strict=True,
            )
            if a in known and b in known and a != b
        ]
        if pairs:
            labelled = len(pairs)
            table = pa.table(
                {
                    f"{UNIQUE_ID}_l": [a for a, _ in pairs],
                    f"{UNIQUE_ID}_r": [b for _, b in pairs],
                }
            )
            linker.table_management.register_table(table, "c360_pairwise_labels", overwrite=True)
            linker.training.estimate_m_from_pairwise_labels("c360_pairwise_labels")
    model = linker.misc.save_model_to_json()
    untrained = [
        f"{c['output_column_name']} / {level['label_for_charts']}"
        for c in model["comparisons"]
        for level in c["comparison_levels"]
        if not level.get("is_null_level") and "m_probability" not in level
    ]
    model = smooth_m_probabilities(model)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(model, indent=2) + "\n")
    report = TrainingReport(
        records=records.num_rows,
        presence=presence,
        comparisons_kept=kept_names,
        comparisons_dropped=dropped_names,
        prediction_rules=prediction,
        training_rules=training,
        deterministic_rules=deterministic,
        untrained=untrained,
        labelled_pairs=labelled,
        counted_u=counted_u,
    )
    return model, report


def _reason(rule: Rule, presence: dict[str, int]) -> str:
    missing = _missing(rule, presence)
    return f"no data in {', '.join(missing)}" if missing else "its columns have data"


def smooth_m_probabilities(model: dict, floor: float = M_FLOOR) -> dict:
    """Floor every level's m-probability and renormalise each comparison.

    EM gives a level it never saw among matches (a birth-date typo, a move to another
    town) an m near zero, i.e. a weight of -35 that would veto a phone, birth date and
    name that all agree. Real data has those events; the floor keeps one unseen
    disagreement from outweighing strong agreement (log2(0.001) is about -10). The floor
    is never above the level's u: a level no match showed (a house number without its
    street, say) is not evidence *for* a match however rare it is among non-matches, so it
    gets a weight of about 0, not the log2(0.001 / u) a flat floor would give it. A level
    random sampling never reached has no u either: it gets u = m, a weight of 0.
    """
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for level in levels:
            u = level.get("u_probability")
            level["m_probability"] = max(
                level.get("m_probability") or 0.0, floor if u is None else min(floor, u)
            )
        total = sum(level["m_probability"] for level in levels)
        for level in levels:
            level["m_probability"] /= total
            if level.get("u_probability") is None:
                level["u_probability"] = level["m_probability"]
    return model


def level_parameters(model: dict) -> dict[str, tuple[float | None, float | None]]:
    """(m, u) per comparison level, to report what a re-training changed."""
    return {
        f"{c['output_column_name']} / {level['label_for_charts']}": (
            level.get("m_probability"),
            level.get("u_probability"),
        )
        for c in model["comparisons"]
        for level in c["comparison_levels"]
        if not level.get("is_null_level")
    }


LABELS_SQL = """
    select record_id_a as person_record_id_l, record_id_b as person_record_id_r
    from reference.identity_must_link
    union all
    select record_id_a, record_id_b
    from reference.identity_pair_labels
    where is_same_person
"""


def read_labels(con: duckdb.DuckDBPyConnection) -> pa.Table | None:
    """Pairs reviewers decided are one person (must-link seed and positive labels)."""
    try:
        return con.sql(LABELS_SQL).arrow().read_all()
    except duckdb.CatalogException:  # a warehouse built before the labels seed existed
        return None


def print_report(report: TrainingReport) -> None:
    print(f"person records: {report.records:,d}")
    print("identifiers present (records with a value):")
    for column, count in report.presence.items():
        if column != UNIQUE_ID:
            print(f"  {column:22s} {count:>10,d}")
    print(f"comparisons trained: {', '.join(report.comparisons_kept)}")
    if report.comparisons_dropped:
        print(f"comparisons left out (no data): {', '.join(report.comparisons_dropped)}")
    for title, choices in (
        ("prediction blocking rules", report.prediction_rules),
        ("training rules (EM)", report.training_rules),
        ("deterministic rules (prior)", report.deterministic_rules),
    ):
        print(f"{title}:")
        for choice in choices:
            mark = "used   " if choice.used else "skipped"
            print(f"  {mark} {choice.rule.name:32s} {choice.reason}")
    if report.untrained:
        print("levels no training pair reached (m set to the floor, at most u):")
        for level in report.untrained:
            print(f"  {level}")
    for column, (sampled, counted, pairs) in report.counted_u.items():
        print(
            f"u of exact {column} counted over different people ({pairs:,d} agreeing pairs): "
            f"{counted:.3g} (random sampling: {'none' if sampled is None else f'{sampled:.3g}'})"
        )
    print(f"reviewers' labelled pairs used for m: {report.labelled_pairs:,d}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse built by dbt")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    before = json.loads(args.out.read_text()) if args.out.exists() else None
    with duckdb.connect(str(args.db), read_only=True) as con:
        records = con.sql(RECORDS_SQL).arrow().read_all()
        labels = read_labels(con)
    after, report = train(records, args.out, labels)
    print_report(report)
    print(f"trained on {records.num_rows:,d} person records -> {args.out}")
    print(f"lambda {after['probability_two_random_records_match']:.3g}")
    if before:
        old, new = level_parameters(before), level_parameters(after)
        for key in sorted(new):
            (m0, u0), (m1, u1) = old.get(key, (None, None)), new[key]
            if m0 != m1 or u0 != u1:
                print(f"  {key}: m {m0} -> {m1}, u {u0} -> {u1}")


if __name__ == "__main__":
    main()
