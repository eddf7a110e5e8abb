"""Publish a finished build for readers: the marts only, in a fresh file swapped in atomically.

    python -m c360.publish --db warehouse/customer_360.duckdb \
        --to target/serving/customer_360.duckdb

Three promises (README, "Reliability"):
- Only a build that passed completely is published. Every dbt invocation records itself
  in `ops.build_runs` (on-run-start / on-run-end hooks); publishing refuses a warehouse
  whose last invocation failed, is still marked running (a killed build), or changed
  models without testing them (`dbt run`).
- Only what readers need is published: the tables and views of the marts schema, copied
  into a new file. Staging and intermediate hold raw copies of the exports, including
  the records of people who asked to be erased (the marts drop them); a new file, not a
  copy with schemas dropped, because DuckDB leaves dropped data in free blocks.
- What near-real-time resolve needs is added to the copy: the keys of the blocking rules
  of the model the build used, term frequencies and indexes (c360.identity.resolve).
- Readers never see a half-written file: it is written beside the serving path and
  renamed over it. A connection opened before the rename keeps reading the old file
  until it reconnects; `<serving>.publication.json` and the table `warehouse_publication`
  say which build a reader has.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from c360.identity.resolve import prepare_published

PUBLISHED_SCHEMA = "main"
PUBLICATION_TABLE = "warehouse_publication"
# Commands that change models; `test` only reads, and a passing one after a build is fine.
CHANGING_COMMANDS = ("build", "run", "seed", "snapshot")


class NotPublishable(RuntimeError):
    """The warehouse's last build did not pass completely: nothing is published."""


@dataclass(frozen=True)
class Build:
    invocation_id: str
    command: str
    finished_at: datetime


def last_good_build(con: duckdb.DuckDBPyConnection, db: Path) -> Build:
    """The build the warehouse holds, if every invocation since it passed; else NotPublishable."""
    try:
        runs = con.sql(
            "select invocation_id, command, status, finished_at, not_passed "
            "from ops.build_runs order by started_at desc"
        ).fetchall()
    except duckdb.CatalogException:
        runs = []
    if not runs:
        raise NotPublishable(
            f"{db} has no build record (ops.build_runs): run `make build` before publishing"
        )
    for invocation_id, command, status, finished_at, not_passed in runs:
        if status != "passed":
            reason = (
                "is still running or was killed"
                if status == "running"
                else f"did not pass: {not_passed or 'see its log'}"
            )
            raise NotPublishable(
                f"Refusing to publish {db}: its last dbt {command} ({invocation_id}) {reason}. "
                "Fix the cause and run `make build` again; the served copy is left as it was."
            )
        if command in CHANGING_COMMANDS:
            if command != "build":
                raise NotPublishable(
                    f"Refusing to publish {db}: its last change was `dbt {command}` "
                    f"({invocation_id}), which runs no tests. Run `make build`."
                )
            return Build(invocation_id, command, finished_at)
    raise NotPublishable(f"Refusing to publish {db}: no passing `dbt build` is recorded")


def _copy_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Tables of the marts schema copied as they are; views recreated when they read only
    published objects, materialised otherwise (a view over intermediate tables)."""
    tables = con.sql(
        "select table_name from information_schema.tables where table_catalog = 'build' "
        f"and table_schema = '{PUBLISHED_SCHEMA}' and table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    for (name,) in tables:
        con.execute(f'create table "{name}" as select * from build.{PUBLISHED_SCHEMA}."{name}"')
    views = con.sql(
        "select view_name, sql from duckdb_views() where database_name = 'build' "
        f"and schema_name = '{PUBLISHED_SCHEMA}' and not internal order by 1"
    ).fetchall()
    for name, sql in views:
        try:
            con.execute(sql)
        except (duckdb.CatalogException, duckdb.BinderException):
            con.execute(f'create table "{name}" as select * from build.{PUBLISHED_SCHEMA}."{name}"')


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.tables where table_catalog = current_database() "
            "and table_name = $1",
            [name],
        ).fetchall()
    )


def publish(build_path: Path, serving_path: Path) -> Path:
    """Publish the marts of `build_path` to `serving_path` atomically; returns the serving path."""
    if not build_path.is_file():
        raise FileNotFoundError(f"No built warehouse at {build_path}: run `make build` first")
    with duckdb.connect(str(build_path), read_only=True) as con:
        build = last_good_build(con, build_path)
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    staging = serving_path.with_name(f".{serving_path.name}.{os.getpid()}.tmp")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    publication = {
        "publication_id": str(uuid.uuid4()),
        "build_invocation_id": build.invocation_id,
        "build_finished_at": build.finished_at.isoformat(sep=" "),
        "published_at": published_at.isoformat(sep=" "),
    }
    try:
        staging.unlink(missing_ok=True)
        with duckdb.connect(str(staging)) as con:
            con.execute(f"attach '{build_path}' as build (read_only)")
            _copy_marts(con)
            if _has_table(con, "resolve_configuration"):
                # near-real-time resolve's keys and indexes, from the model the build used;
                # a model resolve cannot score leaves resolve refusing, not readers waiting
                prepare_published(con)
            con.execute(
                f"create table {PUBLICATION_TABLE} as select "
                "cast($publication_id as varchar) as publication_id, "
                "cast($build_invocation_id as varchar) as build_invocation_id, "
                "cast($build_finished_at as timestamp) as build_finished_at, "
                "cast($published_at as timestamp) as published_at",
                publication,
            )
            con.execute("detach build")
            con.execute("checkpoint")
        with open(staging, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(staging, serving_path)
    finally:
        staging.unlink(missing_ok=True)
    _write_atomically(publication_marker(serving_path), json.dumps(publication, indent=2) + "\n")
    return serving_path


def publication_marker(serving_path: Path) -> Path:
    """The JSON file beside the served warehouse naming the publication it holds."""
    return serving_path.with_name(serving_path.name + ".publication.json")


def _write_atomically(path: Path, text: str) -> None:
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    aside.write_text(text)
    os.replace(aside, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the warehouse dbt built")
    parser.add_argument("--to", type=Path, required=True, help="the file BI tools read")
    args = parser.parse_args()
    try:
        print(f"published {publish(args.db, args.to)}")
    except NotPublishable as refusal:
        print(refusal, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
