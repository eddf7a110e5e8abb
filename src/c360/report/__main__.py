"""Write the report site of a built warehouse: identity model, review, quality, churn.

    python -m c360.report --db target/customer_360.duckdb --out target/reports [--unmasked]

Reads the warehouse read-only. Masked by default: personal values of the records under
review show as short SHA-256 hashes (--unmasked shows them in clear, for identity
reviewers). Open OUT/index.html in a browser; nothing is loaded from the network.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from c360.report.build import Options, build_report, project_var


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m c360.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--db", type=Path, required=True, help="warehouse built by dbt")
    parser.add_argument("--out", type=Path, required=True, help="folder for the site")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--masked", dest="masked", action="store_true", default=True)
    mode.add_argument("--unmasked", dest="masked", action="store_false")
    parser.add_argument("--review-pairs", type=int, default=Options.review_pairs)
    parser.add_argument("--clusters", type=int, default=Options.clusters)
    parser.add_argument(
        "--churn-seed",
        type=int,
        help="churn_seed the build used (default: the var in dbt_project.yml)",
    )
    parser.add_argument(
        "--model",
        help="identity model the build scored with (default: var identity_model_path, "
        "then C360_IDENTITY_MODEL, then the committed model, as the build chooses)",
    )
    parser.add_argument("--project-dir", type=Path, default=Path())
    args = parser.parse_args(argv)
    if args.review_pairs < 1 or args.clusters < 1:
        parser.error("--review-pairs and --clusters must be at least 1")
    if not args.db.is_file():
        parser.error(f"no warehouse at {args.db}: run `make build` first")
    seed = args.churn_seed
    if seed is None:
        value = project_var(args.project_dir, "churn_seed")
        if not str(value).strip().isdigit():
            parser.error(f"var churn_seed in dbt_project.yml is {value!r}: pass --churn-seed")
        seed = int(value)
    options = Options(
        masked=args.masked,
        review_pairs=args.review_pairs,
        clusters=args.clusters,
        churn_seed=seed,
        model=args.model
        or project_var(args.project_dir, "identity_model_path")
        or os.environ.get("C360_IDENTITY_MODEL")
        or None,
    )
    start = time.perf_counter()
    timings = build_report(args.db, args.out, options)
    parts = ", ".join(f"{part} {seconds:.1f}s" for part, seconds in timings.items())
    mode_name = "masked" if args.masked else "unmasked"
    print(
        f"report ({mode_name}) -> {args.out / 'index.html'} in {time.perf_counter() - start:.1f}s"
    )
    print(f"  {parts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
