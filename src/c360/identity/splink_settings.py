"""The Splink model: comparisons and blocking rules for person records.

Written against Splink's backend-agnostic API (SettingsCreator, block_on, the comparison
libraries), so the same settings run on Splink's DuckDB or Spark backend.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, SettingsCreator, block_on

UNIQUE_ID = "person_record_id"

# Pairs are only scored when they agree on one of these; each was kept because it finds
# true pairs the others miss (see README, identity section).
PREDICTION_RULE_COLUMNS = [
    ("email_key",),
    ("phone_e164",),
    # Name alone is not a rule: common names make it quadratic (699M comparisons at
    # 1M persons); qualified by postal code or street it stays linear (see README).
    ("first_name_canonical", "last_name_key", "postal_code"),
    ("first_name_canonical", "last_name_key", "street_key"),
    ("birth_date", "postal_code"),
    ("last_name_key", "birth_date"),
]
PREDICTION_RULES = [block_on(*columns) for columns in PREDICTION_RULE_COLUMNS]

# EM is run once per rule; each rule fixes some comparisons, EM learns the others.
TRAINING_RULES = [
    block_on("first_name_canonical", "last_name_key"),
    block_on("birth_date"),
    block_on("email_key"),
]


def _first_name() -> cl.CustomComparison:
    # exact, then same nickname-canonical name (Bob ~ Robert), then typos
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name_key"),
            cll.ExactMatchLevel("first_name_key", term_frequency_adjustments=True),
            cll.ExactMatchLevel("first_name_canonical").configure(
                label_for_charts="Same canonical first name (nickname)"
            ),
            cll.JaroWinklerLevel("first_name_key", 0.92),
            cll.ElseLevel(),
        ],
    )


def _postal_code() -> cl.CustomComparison:
    # Splink's PostcodeComparison is UK-specific; ZIPs share their first 3 digits by area.
    return cl.CustomComparison(
        output_column_name="postal_code",
        comparison_levels=[
            cll.NullLevel("postal_code"),
            cll.ExactMatchLevel("postal_code", term_frequency_adjustments=True),
            cll.ExactMatchLevel(ColumnExpression("postal_code").substr(1, 3)).configure(
                label_for_charts="Same 3-character postal prefix"
            ),
            cll.ElseLevel(),
        ],
    )


def settings() -> SettingsCreator:
    """The settings the committed model was trained with."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=[
            _first_name(),
            cl.NameComparison("last_name_key").configure(term_frequency_adjustments=True),
            # No term-frequency adjustment on email and phone: their frequency counts one
            # person's own repeated records (ten guest orders), not a common value, and
            # junk identifiers are already nulled in staging.
            cl.ExactMatch("email_key"),
            cl.ExactMatch("phone_e164"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            _postal_code(),
            cl.ExactMatch("street_key"),
        ],
        blocking_rules_to_generate_predictions=PREDICTION_RULES,
        retain_matching_columns=True,
        # gamma_* columns: which level each comparison reached, to explain every pair
        retain_intermediate_calculation_columns=True,
        # a fixed uid keeps the saved model byte-identical across trainings
        linker_uid="c360_person_records",
    )
