"""Re-estimate the Splink model on the current warehouse and write the committed JSON.

    python -m c360.identity.train --db target/customer_360.duckdb [--out PATH]

Builds predict with the committed model, so builds are deterministic; this command is
how that model changes. EM runs single-threaded so the same data gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import duckdb
from splink import block_on

from c360.identity.scoring import MODEL_PATH, linker_for
from c360.identity.splink_settings import TRAINING_RULES, settings

RECORDS_SQL = "select * from intermediate.int_person_records_unioned"
M_FLOOR = 0.001


def train(records, out: Path = MODEL_PATH) -> dict:
    """Estimate lambda, u (random sampling) and m (EM per training rule); save to `out`."""
    linker = linker_for(records, settings(), threads=1)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("first_name_canonical", "last_name_key", "birth_date"),
            block_on("email_key", "first_name_canonical"),
        ],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in TRAINING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    model = linker.misc.save_model_to_json(str(out), overwrite=True)
    model = smooth_m_probabilities(model)
    Path(out).write_text(json.dumps(model, indent=2) + "\n")
    return model


def smooth_m_probabilities(model: dict, floor: float = M_FLOOR) -> dict:
    """Floor every level's m-probability and renormalise each comparison.

    EM gives a level it never saw among matches (a birth-date typo, a move to another
    town) an m near zero, i.e. a weight of -35 that would veto a phone, birth date and
    name that all agree. Real data has those events; the floor keeps one unseen
    disagreement from outweighing strong agreement (log2(0.001) is about -10).
    """
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if "m_probability" in lv]
        for level in levels:
            level["m_probability"] = max(level["m_probability"], floor)
        total = sum(level["m_probability"] for level in levels)
        for level in levels:
            level["m_probability"] /= total
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse built by dbt")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    before = json.loads(args.out.read_text()) if args.out.exists() else None
    with duckdb.connect(str(args.db), read_only=True) as con:
        records = con.sql(RECORDS_SQL).arrow().read_all()
    after = train(records, args.out)
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
