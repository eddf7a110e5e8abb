"""Benchmark: generate (cached), `dbt build` into a fresh warehouse, time, memory, accuracy.

    python -m c360.bench --persons N --seed S [--difficulty default|hard] [--out DIR]
        [--data DIR] [--no-naive]
    python -m c360.bench --table RESULT.json [RESULT.json ...]   # BENCHMARKS.md rows

One run: the raw folder for (persons, seed, difficulty) is generated as Parquet unless the
cache already holds it; `dbt build` runs as a subprocess into a fresh DuckDB file with its own
target and log dirs; wall time, peak resident memory of the build (the kernel's high-water
mark of the dbt process from wait4, and the sampled sum over its process tree) and the
per-model times of run_results.json are read; then the evaluation command's metrics
(c360.identity.evaluate) and, in the same run, the naive Splink set-up on the same records
(c360.identity.naive, trained every run), timed against the project's identity step.
The result is printed and written as JSON (result.json in the run folder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

from c360.datagen import DIFFICULTIES, generate
from c360.identity.evaluate import evaluate, print_metrics
from c360.identity.workbench import PERSON_RECORDS

PROJECT_DIR = Path(__file__).resolve().parents[2]
# the identity step: Splink scoring + guarded clustering (with the overrides)
IDENTITY_MODELS = ("int_person_pairs_scored", "int_person_records_clustered")
SETTINGS = (
    "C360_THREADS",
    "C360_DUCKDB_THREADS",
    "C360_MEMORY_LIMIT",
    "C360_SPLINK_MEMORY_LIMIT",
)


def run_name(persons: int, seed: int, difficulty: str = "default") -> str:
    """<persons>_seed<seed>, with _<difficulty> unless default (the names default runs had)."""
    suffix = "" if difficulty == "default" else f"_{difficulty}"
    return f"{persons}_seed{seed}{suffix}"


def raw_folder(
    persons: int, seed: int, data_root: Path, difficulty: str = "default"
) -> tuple[Path, float | None]:
    """The Parquet raw folder for (persons, seed, difficulty), generated unless cached;
    generation time in seconds when it ran now, else None."""
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    folder = data_root / run_name(persons, seed, difficulty)
    marker = folder / ".complete"
    if marker.exists():
        return folder, None
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    generate(persons, seed, folder, "parquet", difficulty=difficulty)
    seconds = time.perf_counter() - started
    marker.write_text(
        json.dumps({"persons": persons, "seed": seed, "difficulty": difficulty, "seconds": seconds})
    )
    return folder, seconds


def _process_tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc (0 once it is gone)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except OSError:
            continue
    return total


class TreeSampler(threading.Thread):
    """Samples the resident memory of a process tree until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak, self.peak_at = pid, interval, 0, 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            rss = _process_tree_rss(self.pid)
            if rss > self.peak:
                self.peak, self.peak_at = rss, time.time()
            self.stopped.wait(self.interval)


def _running_at(results: list[dict], moment: float) -> list[str]:
    """Names of the nodes whose execution spans `moment` (epoch seconds)."""
    names = []
    for result in results:
        for step in result.get("timing", []):
            if step.get("name") != "execute" or not step.get("started_at"):
                continue
            started = datetime.fromisoformat(step["started_at"].replace("Z", "+00:00"))
            completed = datetime.fromisoformat(step["completed_at"].replace("Z", "+00:00"))
            if started.timestamp() <= moment <= completed.timestamp():
                names.append(result["unique_id"].split(".")[-1])
    return names


def dbt_env(raw: Path, db: Path, work: Path) -> dict:
    """The environment of a benchmark's dbt run: Parquet raw data at `raw`, the warehouse
    `db`, and dbt's target and logs under `work` (never the project's own)."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "C360_RAW_PATH": str(raw),
        "C360_RAW_FORMAT": "parquet",
        "C360_DUCKDB_PATH": str(db),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_build(raw: Path, work: Path) -> dict:
    """`dbt build` of the project on `raw` into a fresh warehouse under `work`."""
    db = work / "warehouse.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal"), work / "target", work / "logs"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    env = dbt_env(raw, db, work)
    dbt = str(Path(sys.executable).parent / "dbt")
    with open(work / "dbt_build.log", "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [dbt, "build"], cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        sampler = TreeSampler(process.pid)
        sampler.start()
        # wait4 reaps the child and returns its own rusage: ru_maxrss is the kernel's
        # high-water mark of the dbt process (KB), whatever else this process ran before
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        sampler.stopped.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = (work / "dbt_build.log").read_text()[-3000:]
        raise RuntimeError(f"dbt build failed (exit {process.returncode}):\n{tail}")
    run_results = json.loads((work / "target" / "run_results.json").read_text())
    nodes = [
        {
            "name": result["unique_id"].split(".")[-1],
            "resource_type": result["unique_id"].split(".")[0],
            "status": result["status"],
            "seconds": round(result["execution_time"], 3),
        }
        for result in run_results["results"]
    ]
    models = sorted(
        (n for n in nodes if n["resource_type"] == "model"), key=lambda n: -n["seconds"]
    )
    return {
        "warehouse": str(db),
        "wall_seconds": round(wall, 2),
        "dbt_elapsed_seconds": round(run_results["elapsed_time"], 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "peak_rss_tree_sampled_mb": round(sampler.peak / 2**20),
        "peak_rss_during": _running_at(run_results["results"], sampler.peak_at),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "nodes": len(nodes),
        # exposures report "no-op": nothing runs for them, and nothing failed
        "nodes_passed": sum(n["status"] in ("success", "pass", "no-op") for n in nodes),
        "model_seconds": {m["name"]: m["seconds"] for m in models},
        "test_seconds": round(sum(n["seconds"] for n in nodes if n["resource_type"] == "test"), 2),
        "seed_seconds": round(sum(n["seconds"] for n in nodes if n["resource_type"] == "seed"), 2),
    }


def machine() -> dict:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "splink": version("splink"),
        "settings": {name: os.environ.get(name, "default") for name in SETTINGS},
    }


def run(
    persons: int,
    seed: int,
    out: Path,
    data_root: Path,
    naive: bool = True,
    difficulty: str = "default",
) -> dict:
    """The whole benchmark for one size and difficulty; writes out/result.json, returns it."""
    raw, generate_seconds = raw_folder(persons, seed, data_root, difficulty)
    out.mkdir(parents=True, exist_ok=True)
    build = dbt_build(raw, out)
    with duckdb.connect(build["warehouse"], read_only=True) as con:
        records, customers = con.sql(
            f"""
            select
                (select count(*) from {PERSON_RECORDS}),
                (select count(distinct customer_id) from main.customer_identifiers)
            """
        ).fetchall()[0]
    identity_seconds = sum(build["model_seconds"].get(m, 0.0) for m in IDENTITY_MODELS)
    accuracy = evaluate(Path(build["warehouse"]), raw / "truth_person_records.csv", naive=naive)
    result = {
        "persons": persons,
        "seed": seed,
        "difficulty": difficulty,
        "raw_folder": str(raw),
        "generate_seconds": None if generate_seconds is None else round(generate_seconds, 1),
        "machine": machine(),
        "build": build,
        "person_records": records,
        "customers": customers,
        "identity": {
            "models": list(IDENTITY_MODELS),
            "seconds": round(identity_seconds, 2),
            "records_per_second": round(records / identity_seconds) if identity_seconds else None,
        },
        "accuracy": accuracy,
    }
    if naive:
        naive_seconds = accuracy["naive_splink"]["seconds"]
        result["versus_naive"] = {
            "naive_seconds": round(naive_seconds, 2),
            "identity_seconds": round(identity_seconds, 2),
            "speedup": round(naive_seconds / identity_seconds, 2) if identity_seconds else None,
            "b3_f1_ratio": round(
                accuracy["customer_360"]["b3_f1"] / accuracy["naive_splink"]["b3_f1"], 4
            ),
            "pairwise_f1_ratio": round(
                accuracy["customer_360"]["pairwise_f1"] / accuracy["naive_splink"]["pairwise_f1"],
                4,
            ),
        }
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def report(result: dict, slowest: int = 12) -> None:
    """Human-readable summary of one result."""
    build, identity = result["build"], result["identity"]
    print(
        f"\n== {result['persons']:,d} persons, seed {result['seed']}, "
        f"{result.get('difficulty', 'default')} data =="
    )
    print(f"raw folder           {result['raw_folder']}")
    print(
        f"dbt build            {build['wall_seconds']:.1f} s wall "
        f"(dbt {build['dbt_elapsed_seconds']:.1f} s), {build['nodes_passed']}/{build['nodes']} "
        f"nodes pass, peak RSS {build['peak_rss_mb']:,d} MB "
        f"(process tree sampled: {build['peak_rss_tree_sampled_mb']:,d} MB, during "
        f"{', '.join(build['peak_rss_during']) or 'dbt start-up or parsing'})"
    )
    print(f"dbt process CPU      {build['cpu_seconds']:.1f} s (user + system)")
    print(
        f"person records       {result['person_records']:,d} -> {result['customers']:,d} customers"
    )
    print(
        f"identity step        {identity['seconds']:.1f} s "
        f"({' + '.join(identity['models'])}), {identity['records_per_second']:,d} records/s"
    )
    print(f"seeds / tests        {build['seed_seconds']:.1f} s / {build['test_seconds']:.1f} s")
    print("slowest models (s):")
    for name, seconds in list(build["model_seconds"].items())[:slowest]:
        print(f"  {seconds:8.1f}  {name}")
    print()
    print_metrics(result["accuracy"])
    versus = result.get("versus_naive")
    if versus:
        acc = result["accuracy"]
        print(
            f"\nidentity step {versus['identity_seconds']:.1f} s vs naive Splink "
            f"{versus['naive_seconds']:.1f} s: {versus['speedup']:.2f}x faster; "
            f"B-cubed F1 {acc['customer_360']['b3_f1']:.4f} vs {acc['naive_splink']['b3_f1']:.4f} "
            f"(ratio {versus['b3_f1_ratio']:.4f}), pairwise F1 "
            f"{acc['customer_360']['pairwise_f1']:.4f} vs {acc['naive_splink']['pairwise_f1']:.4f}"
        )


def table(paths: list[Path]) -> None:
    """BENCHMARKS.md rows, one per result.json."""
    print(
        "| persons | seed | data | person records | build wall | dbt CPU | peak RSS"
        " | identity step | records/s"
        " | naive Splink | speedup | B-cubed F1 (naive) | pairwise precision (naive) |"
    )
    print("|---:|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in paths:
        r = json.loads(Path(path).read_text())
        acc, versus = r["accuracy"], r.get("versus_naive")
        naive = acc.get("naive_splink")

        def pair(metric: str, acc=acc, naive=naive) -> str:
            ours = f"{acc['customer_360'][metric]:.4f}"
            return f"{ours} ({naive[metric]:.4f})" if naive else f"{ours} (-)"

        naive_time = f"{versus['naive_seconds']:.1f} s" if versus else "-"
        speedup = f"{versus['speedup']:.1f}x" if versus else "-"
        print(
            f"| {r['persons']:,d} | {r['seed']} | {r.get('difficulty', 'default')} "
            f"| {r['person_records']:,d} "
            f"| {r['build']['wall_seconds']:.1f} s | {r['build']['cpu_seconds']:.1f} s "
            f"| {r['build']['peak_rss_mb']:,d} MB "
            f"| {r['identity']['seconds']:.1f} s | {r['identity']['records_per_second']:,d} "
            f"| {naive_time} | {speedup} "
            f"| {pair('b3_f1')} | {pair('pairwise_precision')} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, help="real persons to generate")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--difficulty",
        choices=DIFFICULTIES,
        default="default",
        help="generator mode (hard: realistic difficulties on top, see c360.datagen.hard)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="run folder (default bench/<persons>_seed<seed>, + _hard for hard data)",
    )
    parser.add_argument(
        "--data", type=Path, default=PROJECT_DIR / "bench" / "data", help="raw data cache"
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive Splink set-up")
    parser.add_argument("--table", type=Path, nargs="+", help="print table rows of results")
    args = parser.parse_args(argv)
    if args.table:
        table(args.table)
        return
    if not args.persons:
        parser.error("--persons is required")
    out = args.out or PROJECT_DIR / "bench" / run_name(args.persons, args.seed, args.difficulty)
    result = run(
        args.persons, args.seed, out, args.data, naive=not args.no_naive, difficulty=args.difficulty
    )
    report(result)
    print(f"\nresult: {out / 'result.json'}")


if __name__ == "__main__":
    main()
