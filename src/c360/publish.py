"""Publish a finished build for readers: copy the warehouse file, then swap it in atomically.

    python -m c360.publish --db target/customer_360.duckdb --to target/serving/customer_360.duckdb

DuckDB allows one writer per file, and a reader's lock on the build file would make the
next `dbt build` fail. So BI tools read a *published copy*: the build writes its own file,
and only after every model and test passed is the file copied beside the serving path and
renamed over it. A rename is atomic: a reader that has the old file open keeps reading the
old, complete warehouse; the next connection sees the new one; no reader ever sees a
half-built mart, and no reader can block a build. (POSIX rename semantics: Linux, macOS.)
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import duckdb


def publish(build_path: Path, serving_path: Path) -> Path:
    """Copy the built warehouse to `serving_path` atomically; returns the serving path."""
    if not build_path.is_file():
        raise FileNotFoundError(f"No built warehouse at {build_path}: run `make build` first")
    # Fold any write-ahead log into the file so the copy holds every committed table.
    with duckdb.connect(str(build_path)) as con:
        con.execute("checkpoint")
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    staging = serving_path.with_name(f".{serving_path.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(build_path, staging)
        with open(staging, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(staging, serving_path)
    finally:
        staging.unlink(missing_ok=True)
    return serving_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the warehouse dbt built")
    parser.add_argument("--to", type=Path, required=True, help="the file BI tools read")
    args = parser.parse_args()
    print(f"published {publish(args.db, args.to)}")


if __name__ == "__main__":
    main()
