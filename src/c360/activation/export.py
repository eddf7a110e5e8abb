"""Write each audience to its own CSV or Parquet file, for tools that read files.

    python -m c360.activation.export --db target/serving/customer_360.duckdb --out DIR \
        [--format csv|parquet] [--audience NAME ...]

Reads the audience views of a *published* warehouse (c360.publish) read-only: only a
build that passed every test, the audience guard included, is published, so nothing
else may reach a destination. A warehouse without a publication record is refused. Each
file is written beside its final name and renamed into place, so a tool polling the folder
never reads a half-written file. An audience with no member still gets a file (header
only), so a sync sees "nobody" rather than a missing file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import duckdb

from c360.publish import PUBLICATION_TABLE

FORMATS = {"csv": "(format csv, header true)", "parquet": "(format parquet)"}


def export_audiences(
    db: Path, out: Path, file_format: str = "parquet", audiences: list[str] | None = None
) -> dict[str, int]:
    """Write one file per audience into `out`; returns the rows written per audience."""
    if file_format not in FORMATS:
        raise ValueError(f"--format must be csv or parquet, not {file_format!r}")
    if not db.is_file():
        raise FileNotFoundError(f"No published warehouse at {db}: run `make build` first")
    with duckdb.connect(str(db), read_only=True) as con:
        published = con.sql(
            "select count(*) from information_schema.tables "
            f"where table_schema = 'main' and table_name = '{PUBLICATION_TABLE}'"
        ).fetchall()[0][0]
        if not published:
            raise ValueError(
                f"{db} is not a published warehouse (no main.{PUBLICATION_TABLE}): audiences "
                "are exported only from what `make publish` published after a passing build"
            )
        out.mkdir(parents=True, exist_ok=True)
        declared = [
            name
            for (name,) in con.sql(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' and table_name like 'audience\\_%' escape '\\' "
                "and table_type = 'VIEW' order by table_name"
            ).fetchall()
        ]
        known = [name.removeprefix("audience_") for name in declared]
        chosen = audiences or known
        unknown = sorted(set(chosen) - set(known))
        if unknown:
            raise ValueError(
                f"No audience {', '.join(unknown)} in {db} (declared: {', '.join(known) or 'none'})"
            )
        written = {}
        for name in chosen:
            target = out / f"{name}.{file_format}"
            partial = out / f".{name}.{os.getpid()}.{file_format}"
            con.execute(
                f"copy (select * from main.audience_{name} order by customer_id) "
                f"to '{partial}' {FORMATS[file_format]}"
            )
            os.replace(partial, target)
            written[name] = con.sql(f"select count(*) from main.audience_{name}").fetchall()[0][0]
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="warehouse to read (read-only)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the files")
    parser.add_argument("--format", choices=sorted(FORMATS), default="parquet")
    parser.add_argument("--audience", action="append", help="only this audience (repeatable)")
    args = parser.parse_args()
    try:
        written = export_audiences(args.db, args.out, args.format, args.audience)
    except (ValueError, FileNotFoundError) as error:
        parser.exit(1, f"{error}\n")
    for name, rows in written.items():
        print(f"{name}: {rows} rows -> {args.out / f'{name}.{args.format}'}")


if __name__ == "__main__":
    main()
