"""Measure the incremental identity step against a full one on the same data.

    python -m c360.identity.incremental_bench --raw DIR --out DIR [--share 0.01] [--rounds 2]
        [--whole]

`--raw` is a Parquet raw folder (C360_RAW_FORMAT=parquet, e.g. `python -m c360.datagen
--format parquet`). The CRM contacts and support tickets created last (`--share` of each,
by created_at) are held out; the identity models (`+int_person_records_customer_ids`, or
the whole project with `--whole`) are built on the rest, and that warehouse is kept. Then,
per round, on a copy of it with every record: an incremental build (A), then a build with
a full identity step on the same records with the same frozen frequencies (B, var
identity_full_refresh). Per build: the dbt process's wall and CPU seconds and peak memory,
and each identity model's time from run_results.json. The result goes to
`--out`/result.json and is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from c360.bench import PROJECT_DIR, dbt_env, machine
from c360.identity.stable_ids import aliases_from_lineage

SELECT = ["-s", "+int_person_records_customer_ids", "--indirect-selection=cautious"]
IDENTITY_STEP = (
    "int_identity_frequencies",
    "int_person_records_fingerprinted",
    "int_person_pairs_scored",
    "int_person_records_clustered",
    "int_customer_id_lineage",
)
HELD_OUT = ("crm_contacts", "support_tickets")


def hold_out(raw: Path, out: Path, share: float) -> dict[str, int]:
    """`out` = `raw` without the latest `share` of each HELD_OUT table (by created_at);
    the other tables are linked, not copied. Returns the rows held out per table."""
    out.mkdir(parents=True, exist_ok=True)
    held = {}
    for source in sorted(raw.glob("*.parquet")):
        target = out / source.name
        if target.exists() or target.is_symlink():
            target.unlink()
        table = source.stem
        if table not in HELD_OUT:
            target.symlink_to(source.resolve())
            continue
        with duckdb.connect() as con:
            rows = con.sql(f"select count(*) from read_parquet('{source}')").fetchall()[0][0]
            keep = rows - int(rows * share)
            con.execute(
                f"copy (select * from read_parquet('{source}') order by created_at, 1"
                f" limit {keep}) to '{target}' (format parquet)"
            )
        held[table] = rows - keep
    if not held:
        raise ValueError(f"{raw}: no {' or '.join(HELD_OUT)} Parquet file to hold records out of")
    return held


def build(raw: Path, db: Path, work: Path, *args: str, select: list[str] = SELECT) -> dict:
    """One `dbt build` of the identity models (of the whole project with select=[]); its
    wall and CPU seconds, peak memory and the identity models' times."""
    for stale in (work / "target", work / "logs"):
        shutil.rmtree(stale, ignore_errors=True)
    env = dbt_env(raw, db, work)
    dbt = str(Path(sys.executable).parent / "dbt")
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "dbt_build.log", "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [dbt, "build", *select, *args],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        tail = (work / "dbt_build.log").read_text()[-3000:]
        raise RuntimeError(f"dbt build failed:\n{tail}")
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    seconds = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}
    lines = [
        line.split("c360 adapter: ", 1)[1]
        for line in (work / "dbt_build.log").read_text().splitlines()
        if "c360 adapter: identity" in line
    ]
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "model_seconds": {m: round(seconds.get(m, 0.0), 2) for m in IDENTITY_STEP},
        "identity_seconds": round(sum(seconds.get(m, 0.0) for m in IDENTITY_STEP), 2),
        "paths": lines,
    }


def id_stability(before: Path, after: Path) -> dict:
    """How the customer ids of the records in both warehouses moved (issue 18's id
    stability): among the records whose cluster did not merge or split (the records of its
    earlier cluster still there are all in one cluster now, which holds no other earlier
    record; new records may have joined, erased ones left), how many kept their
    customer_id; and of the ids no record carries any more, how many the aliases
    (`int_customer_id_aliases`, from the id lineage) map to a current id, and how many were
    retired with none."""
    clusters = (
        "select c.person_record_id, c.customer_id as cluster, i.customer_id"
        " from {db}.intermediate.int_person_records_clustered as c"
        " join {db}.intermediate.int_person_records_customer_ids as i"
        " on c.person_record_id = i.person_record_id"
    )
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{before}' as old_build (read_only)")
        con.execute(f"attach '{after}' as new_build (read_only)")
        found = con.execute(
            "select 1 from information_schema.tables where table_catalog = 'new_build'"
            " and table_name = 'int_customer_id_aliases'"
        ).fetchall()
        if found:
            con.execute(
                "create view aliases as from new_build.intermediate.int_customer_id_aliases"
            )
        else:
            # the identity models alone do not build the aliases: derived as their model does
            lineage = con.sql("select * from new_build.intermediate.int_customer_id_lineage")
            con.register("aliases", aliases_from_lineage(lineage.arrow().read_all()))
        row = con.execute(
            f"""
            with old as ({clusters.format(db="old_build")}),
            new as ({clusters.format(db="new_build")}),
            in_both as (
                select o.person_record_id, o.cluster as old_cluster, n.cluster as new_cluster,
                    o.customer_id as old_id, n.customer_id as new_id
                from old as o join new as n on o.person_record_id = n.person_record_id
            ),
            old_clusters as (
                select old_cluster, count(distinct new_cluster) as parts
                from in_both group by old_cluster
            ),
            new_clusters as (
                select new_cluster, count(distinct old_cluster) as sources
                from in_both group by new_cluster
            ),
            unchanged as (
                select b.* from in_both as b
                join old_clusters as o on b.old_cluster = o.old_cluster
                join new_clusters as n on b.new_cluster = n.new_cluster
                where o.parts = 1 and n.sources = 1
            ),
            gone_ids as (
                select distinct customer_id from old
                where customer_id not in (select customer_id from new)
            )
            select
                (select count(*) from in_both),
                (select count(*) from unchanged),
                (select count(*) from unchanged where old_id = new_id),
                (select count(*) from in_both where old_id <> new_id),
                (select count(*) from gone_ids),
                (select count(*) from gone_ids as g
                    join aliases as a
                    on g.customer_id = a.customer_id
                    where a.current_customer_id in (select customer_id from new)),
                (select count(*) from gone_ids as g
                    join aliases as a
                    on g.customer_id = a.customer_id
                    where a.current_customer_id is null and a.retired_build_id is not null)
            """
        ).fetchall()[0]
    names = (
        "records_in_both",
        "records_cluster_unchanged",
        "kept_their_id",
        "records_with_another_id",
        "ids_gone",
        "ids_gone_with_current_successor",
        "ids_gone_retired_without_records",
    )
    result = dict(zip(names, row, strict=True))
    unchanged = result["records_cluster_unchanged"]
    result["kept_share"] = round(result["kept_their_id"] / unchanged, 6) if unchanged else None
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True, help="Parquet raw folder")
    parser.add_argument("--out", type=Path, required=True, help="work folder (warehouses, logs)")
    parser.add_argument("--share", type=float, default=0.01, help="share held out per table")
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds")
    parser.add_argument(
        "--whole",
        action="store_true",
        help="build the whole project (every model and test), not only the identity models",
    )
    args = parser.parse_args(argv)
    select = [] if args.whole else SELECT
    out = args.out.resolve()
    held = hold_out(args.raw.resolve(), out / "raw_before", args.share)
    before = out / "before.duckdb"
    result = {
        "raw": str(args.raw),
        "held_out": held,
        "machine": machine(),
        "load_average_start": os.getloadavg(),
        "selection": "whole project" if args.whole else " ".join(SELECT),
        "before": build(out / "raw_before", before, out / "before", select=select),
        "rounds": [],
    }
    db = out / "warehouse.duckdb"
    for round_number in range(args.rounds):
        shutil.copyfile(before, db)
        incremental = build(
            args.raw.resolve(), db, out / f"incremental_{round_number}", select=select
        )
        incremental["id_stability"] = id_stability(before, db)
        full = build(
            args.raw.resolve(),
            db,
            out / f"full_{round_number}",
            "--vars",
            "{identity_full_refresh: true}",
            select=select,
        )
        result["rounds"].append({"incremental": incremental, "full": full})
        print(json.dumps(result["rounds"][-1], indent=1), flush=True)
    result["load_average_end"] = os.getloadavg()
    ratios = sorted(
        r["incremental"]["identity_seconds"] / r["full"]["identity_seconds"]
        for r in result["rounds"]
    )
    result["median_identity_ratio"] = round(ratios[len(ratios) // 2], 4)
    (out / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("held_out", "median_identity_ratio")}))


if __name__ == "__main__":
    main()
