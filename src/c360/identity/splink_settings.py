"""The Splink model: comparisons, blocking rules and training rules for person records.

Written against Splink's backend-agnostic API (SettingsCreator, block_on, ColumnExpression,
the comparison libraries), so the same settings run on Splink's DuckDB or Spark backend,
except the swapped-names rule, written in DuckDB SQL (another backend needs it translated).
Match keys that need more than that (house number, street name, postal code without
leading zeros, the numbered email handle) are computed in portable SQL by
int_person_records_unioned (macros), so rules and levels on them are plain equalities.
"""

from __future__ import annotations

from dataclasses import dataclass

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator

UNIQUE_ID = "person_record_id"


@dataclass(frozen=True)
class Rule:
    """A blocking rule with a readable name and the record columns it needs."""

    name: str
    creator: BlockingRuleCreator
    columns: tuple[str, ...]
    household: bool = False  # blocks on an identifier a household shares


def _prefix(column: str, length: int) -> ColumnExpression:
    return ColumnExpression(column).substr(1, length)


# Pairs are only scored when they agree on one of these. Each is two or three identifiers
# of the person, so a typo in any one identifier still leaves another rule that holds,
# and none is a single low-cardinality value: first name + last name alone is quadratic
# (common names), and so is a name with a postal code where postal codes are few. Name
# prefixes instead of names keep typos after the third letter (Jacynta / Jacinta) in the
# rule at almost no extra cost. What each rule costs and reaches:
# python -m c360.identity.blocking (figures in BENCHMARKS.md).
PREDICTION_RULES = [
    Rule("email", block_on("email_key"), ("email_key",)),
    Rule("phone", block_on("phone_e164"), ("phone_e164",)),
    Rule(
        "name prefixes + postal code",
        block_on(
            _prefix("first_name_canonical", 3), _prefix("last_name_key", 3), "postal_code_key"
        ),
        ("first_name_canonical", "last_name_key", "postal_code_key"),
    ),
    Rule(
        "name + house number",
        block_on("first_name_canonical", "last_name_key", "street_number"),
        ("first_name_canonical", "last_name_key", "street_number"),
    ),
    Rule(
        "birth date + postal code",
        block_on("birth_date", "postal_code_key"),
        ("birth_date", "postal_code_key"),
    ),
    Rule(
        "last name + birth date",
        block_on("last_name_key", "birth_date"),
        ("last_name_key", "birth_date"),
    ),
    Rule(
        "first name + birth date",
        block_on("first_name_canonical", "birth_date"),
        ("first_name_canonical", "birth_date"),
    ),
    Rule(
        "birth date + house number",
        block_on("birth_date", "street_number"),
        ("birth_date", "street_number"),
    ),
    Rule(
        "first and last name swapped + postal area",
        CustomRule(
            "l.first_name_key = r.last_name_key and l.last_name_key = r.first_name_key"
            " and substr(l.postal_code_key, 1, 1) = substr(r.postal_code_key, 1, 1)",
            sql_dialect="duckdb",
        ),
        ("first_name_key", "last_name_key", "postal_code_key"),
    ),
    Rule(
        "house number + street name",
        block_on("street_number", "street_name_key"),
        ("street_number", "street_name_key"),
    ),
    Rule(
        "last name + house number + postal area",
        block_on("last_name_key", "street_number", _prefix("postal_code_key", 1)),
        ("last_name_key", "street_number", "postal_code_key"),
    ),
    # A typo within the first three letters of one name (Mrrk / Mark, Jhon / John) breaks
    # the prefixes rule above; the other name whole, the initial and the postal code still
    # hold. A postal code with a last name is a household, so the initial keeps the
    # block to the members who share it.
    Rule(
        "last name + postal code + first initial",
        block_on("last_name_key", "postal_code_key", _prefix("first_name_key", 1)),
        ("last_name_key", "postal_code_key", "first_name_key"),
    ),
    Rule(
        "first name + postal code + last initial",
        block_on("first_name_canonical", "postal_code_key", _prefix("last_name_key", 1)),
        ("first_name_canonical", "postal_code_key", "last_name_key"),
    ),
    Rule(
        "first name + house number + last initial",
        block_on("first_name_canonical", "street_number", _prefix("last_name_key", 1)),
        ("first_name_canonical", "street_number", "last_name_key"),
    ),
    # The same numbered handle at another address (email_handle, macro email_handle: the
    # local part without separators, only when it holds a digit): a person's second
    # mailbox. A handle without a number (info@, jsmith@) is NULL and blocks nothing.
    Rule("numbered email handle", block_on("email_handle"), ("email_handle",)),
]

# EM runs once per training rule that finds pairs in the user's records (see train.py):
# each rule fixes the comparisons it blocks on and EM learns the others, so together they
# must leave every comparison free at least once. Personal identifiers first. A phone or an
# address is shared by a household: pairs blocked on it are full of a household's other
# members, whom EM then learns to take for one person (different first names and dates of
# birth look like a match's typos); such a rule is used only to train a comparison the
# personal rules left untrained.
TRAINING_RULES = [
    Rule(
        "first name + last name",
        block_on("first_name_canonical", "last_name_key"),
        ("first_name_canonical", "last_name_key"),
    ),
    Rule("birth date", block_on("birth_date"), ("birth_date",)),
    Rule("email", block_on("email_key"), ("email_key",)),
    Rule("phone", block_on("phone_e164"), ("phone_e164",), household=True),
    Rule("postal code", block_on("postal_code_key"), ("postal_code_key",), household=True),
]

# Rules that are nearly certain when they hold, for the prior probability that two random
# records match (Splink's "deterministic rules"); used when their columns have data.
DETERMINISTIC_RULES = [
    Rule(
        "name + birth date",
        block_on("first_name_canonical", "last_name_key", "birth_date"),
        ("first_name_canonical", "last_name_key", "birth_date"),
    ),
    Rule(
        "email + first name",
        block_on("email_key", "first_name_canonical"),
        ("email_key", "first_name_canonical"),
    ),
    Rule(
        "phone + first name",
        block_on("phone_e164", "first_name_canonical"),
        ("phone_e164", "first_name_canonical"),
    ),
    Rule(
        "name + street",
        block_on("first_name_canonical", "last_name_key", "street_key"),
        ("first_name_canonical", "last_name_key", "street_key"),
    ),
]


def _first_name() -> cl.CustomComparison:
    # exact, nickname (Bob ~ Robert), swapped with the last name, one typo (Mark ~ Mrak,
    # Jerry ~ Jeryr: a one-letter typo in a short name scores below Jaro-Winkler 0.92),
    # then spelling variants
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name_key"),
            cll.ExactMatchLevel("first_name_key", term_frequency_adjustments=True),
            cll.ExactMatchLevel("first_name_canonical").configure(
                label_for_charts="Same canonical first name (nickname)"
            ),
            cll.ColumnsReversedLevel("first_name_key", "last_name_key").configure(
                label_for_charts="First name is the other's last name (swapped)"
            ),
            cll.DamerauLevenshteinLevel("first_name_key", 1).configure(
                label_for_charts="One edit apart"
            ),
            cll.JaroWinklerLevel("first_name_key", 0.88),
            cll.ElseLevel(),
        ],
        comparison_description="first_name",
    )


def _last_name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="last_name_key",
        comparison_levels=[
            cll.NullLevel("last_name_key"),
            cll.ExactMatchLevel("last_name_key", term_frequency_adjustments=True),
            cll.ColumnsReversedLevel("last_name_key", "first_name_key").configure(
                label_for_charts="Last name is the other's first name (swapped)"
            ),
            cll.DamerauLevenshteinLevel("last_name_key", 1).configure(
                label_for_charts="One edit apart"
            ),
            cll.JaroWinklerLevel("last_name_key", 0.88),
            cll.JaroWinklerLevel("last_name_key", 0.7),
            cll.ElseLevel(),
        ],
        comparison_description="last_name_key",
    )


def _birth_date() -> cl.CustomComparison:
    # one digit wrong or two adjacent digits transposed, and day and month swapped (a
    # day-first date read month-first), are typing errors, not other dates
    as_text = ColumnExpression("birth_date").cast_to_string()
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date").configure(label_for_charts="Exact match"),
            cll.DamerauLevenshteinLevel(as_text, 1).configure(
                label_for_charts="One digit wrong or two transposed"
            ),
            cll.And(
                cll.ExactMatchLevel(as_text.substr(1, 4)),
                cll.ColumnsReversedLevel(as_text.substr(6, 2), as_text.substr(9, 2), True),
            ).configure(label_for_charts="Day and month swapped"),
            cll.AbsoluteDateDifferenceLevel(
                "birth_date", input_is_string=False, threshold=1, metric="year"
            ).configure(label_for_charts="Within a year"),
            cll.ElseLevel(),
        ],
        comparison_description="birth_date",
    )


def _postal_code() -> cl.CustomComparison:
    # Splink's PostcodeComparison is UK-specific; ZIPs share their first 3 digits by area
    return cl.CustomComparison(
        output_column_name="postal_code",
        comparison_levels=[
            cll.NullLevel("postal_code_key"),
            cll.ExactMatchLevel("postal_code_key", term_frequency_adjustments=True),
            cll.DamerauLevenshteinLevel("postal_code_key", 1).configure(
                label_for_charts="One edit apart"
            ),
            cll.ExactMatchLevel(_prefix("postal_code_key", 3)).configure(
                label_for_charts="Same 3-character postal prefix"
            ),
            cll.ElseLevel(),
        ],
        comparison_description="postal_code",
    )


def _street() -> cl.CustomComparison:
    # same house number on a street spelled alike is a typo; a neighbour's house number on
    # the same street is not the same address
    return cl.CustomComparison(
        output_column_name="street_key",
        comparison_levels=[
            cll.NullLevel("street_key"),
            cll.ExactMatchLevel("street_key"),
            cll.And(
                cll.ExactMatchLevel("street_number"),
                cll.JaroWinklerLevel("street_name_key", 0.88),
            ).configure(label_for_charts="Same house number, street spelled alike"),
            cll.JaroWinklerLevel("street_key", 0.92).configure(
                label_for_charts="Street spelled alike"
            ),
            cll.And(
                cll.ExactMatchLevel("street_number"),
                cll.Or(
                    cll.NullLevel("street_name_key"), cll.JaroWinklerLevel("street_name_key", 0.7)
                ),
            ).configure(label_for_charts="Same house number, street missing or unlike"),
            cll.ElseLevel(),
        ],
        comparison_description="street_key",
    )


def _email() -> cl.CustomComparison:
    # the same address, then the same numbered handle at another address or provider (a
    # person's second mailbox); no term frequencies: a frequent email is one person's ten
    # guest orders, not a common value, and junk is nulled in staging
    return cl.CustomComparison(
        output_column_name="email_key",
        comparison_levels=[
            cll.NullLevel("email_key"),
            cll.ExactMatchLevel("email_key"),
            # email_handle is NULL unless the handle holds a number (macro email_handle)
            cll.ExactMatchLevel("email_handle").configure(
                label_for_charts="Same numbered handle, other address"
            ),
            cll.ElseLevel(),
        ],
        comparison_description="email_key",
    )


def comparisons() -> list:
    return [
        _first_name(),
        _last_name(),
        _email(),
        # No term-frequency adjustment on phone: its frequency counts one person's own
        # repeated records, not a common value, and junk phones are nulled in staging.
        cl.ExactMatch("phone_e164"),
        _birth_date(),
        _postal_code(),
        _street(),
    ]


def settings(
    prediction_rules: list[Rule] = PREDICTION_RULES, model_comparisons: list | None = None
) -> SettingsCreator:
    """The settings a model is trained with: every comparison and prediction rule, or the
    ones whose columns hold data (train.py decides)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=comparisons() if model_comparisons is None else model_comparisons,
        blocking_rules_to_generate_predictions=[rule.creator for rule in prediction_rules],
        retain_matching_columns=True,
        # gamma_* columns: which level each comparison reached, to explain every pair
        retain_intermediate_calculation_columns=True,
        # a fixed uid keeps the saved model byte-identical across trainings
        linker_uid="c360_person_records",
    )
