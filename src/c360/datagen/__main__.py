"""Command line: python -m c360.datagen --persons N --seed S --out DIR [--format csv|parquet]
[--difficulty default|hard]."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from c360.datagen import DIFFICULTIES, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write synthetic raw exports of the source contract."
    )
    parser.add_argument("--persons", type=int, required=True, help="number of real persons")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same files)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the tables to")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date(2026, 1, 1),
        help="end of the 3-year activity window (never the wall clock)",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes generating chunks")
    parser.add_argument(
        "--difficulty",
        choices=DIFFICULTIES,
        default="default",
        help="hard: also plant realistic difficulties (see c360.datagen.hard for the rates)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(
        args.persons,
        args.seed,
        args.out,
        args.format,
        args.as_of,
        args.workers,
        args.difficulty,
    )
    for table, rows in counts.items():
        print(f"{table:24s} {rows:>12,d}")
    print(
        f"wrote {sum(counts.values()):,d} rows to {args.out}"
        f" in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
