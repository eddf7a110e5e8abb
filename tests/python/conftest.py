"""Shared fixtures: run the real dbt project against a raw folder in a temporary DuckDB file.

What a test module can reuse instead of building its own:

- `sample_build` (session fixture): the bundled sample (data/sample) built once with
  `dbt build` and the project's default vars, shared by every module that asks for it.
  `.db` is the warehouse: read it (`query`, read-only connections), and copy it
  (`shutil.copyfile`) before anything writes to it; the session fails at teardown if a
  test changed it. `.log` is the build's dbt output, `.work` its target/ and logs/.
  A module that only reads the sample's warehouse asks for this instead of building.
- `dbt(...)`, `dbt_build(...)`, `dbt_env(...)`: one dbt invocation on its own warehouse
  file, target and log folders (never the project's target/, warehouse/ or logs/).
- `run_dbt` (function fixture): `dbt` into the test's own tmp_path.
- `project_copy(folder)`: a copy of the project for a test that changes a seed or a model.
- `query(db, sql)`: a read-only query against a built warehouse.

Parallel runs (`make test` runs pytest-xdist with `--dist loadfile --no-loadscope-reorder`):
every module runs whole on one worker, so its module-scoped fixtures are built once. A
session fixture shared by several modules (`sample_build`) is built once per run whichever
worker asks first: the others wait on a lock in the run's shared temporary folder and reuse
it. The integration modules are scheduled first (the longest chains of builds, RUN_FIRST,
before them), the quick unit modules fill in at the end; `--no-loadscope-reorder` keeps that
order (xdist would otherwise start the modules with the most tests, however quick). Each
build writes only below pytest's temporary folders, so two workers never write the same
path.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = PROJECT_DIR / "data" / "sample"
DBT = str(Path(sys.executable).parent / "dbt")

DbtRunner = Callable[..., subprocess.CompletedProcess]


# Churn fits on one OpenMP thread in the tests (and the dbt builds they start): the scores
# are the same on any number of threads (test_churn.py checks it), and beside other work on
# a 2-core machine two threads made each small fit several times slower.
os.environ.setdefault("C360_CHURN_THREADS", "1")

# A masking key for the test builds (C360_MASKING_KEY), so the keyed pseudonyms of the masked
# marts are computed and checkable; never a key to use anywhere else.
MASKING_KEY = "test-masking-key-not-for-production"


def dbt_env(raw_path: Path, db_path: Path, work_dir: Path, raw_format: str = "csv") -> dict:
    """Environment for one isolated dbt invocation (own DuckDB file, target and log dirs)."""
    return {
        **os.environ,
        "C360_MASKING_KEY": MASKING_KEY,
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "C360_RAW_PATH": str(raw_path),
        "C360_RAW_FORMAT": raw_format,
        "C360_DUCKDB_PATH": str(db_path),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt(
    *args: str,
    raw_path: Path,
    db_path: Path,
    work_dir: Path,
    raw_format: str = "csv",
    project_dir: Path = PROJECT_DIR,
) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on a project against `raw_path` into `db_path`; the finished process."""
    return subprocess.run(
        [DBT, *args],
        cwd=project_dir,
        env=dbt_env(raw_path, db_path, work_dir, raw_format),
        capture_output=True,
        text=True,
        check=False,
    )


def project_copy(folder: Path) -> Path:
    """A copy of the project in `folder`/project (code, models and seeds; no virtualenv,
    data, warehouses or build output), for a test that changes a seed or a model."""
    project = folder / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "target", "logs", "data", "warehouse", "bench", "*.duckdb"
        ),
    )
    return project


def dbt_build(raw_path: Path, db_path: Path, work_dir: Path, raw_format: str = "csv") -> Path:
    """`dbt build` that must pass (its log tail is the failure message); returns the warehouse."""
    result = dbt(
        "build", raw_path=raw_path, db_path=db_path, work_dir=work_dir, raw_format=raw_format
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return db_path


@pytest.fixture
def run_dbt(tmp_path: Path) -> DbtRunner:
    """Run `dbt <args>` on the project against `raw_path`; returns the finished process."""

    def run(*args: str, raw_path: Path, raw_format: str = "csv") -> subprocess.CompletedProcess:
        return dbt(
            *args,
            raw_path=raw_path,
            db_path=tmp_path / "warehouse.duckdb",
            work_dir=tmp_path,
            raw_format=raw_format,
        )

    return run


def query(db_path: Path, sql: str) -> list[tuple]:
    """Read-only query against a built warehouse file."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.sql(sql).fetchall()


@dataclass(frozen=True)
class SampleBuild:
    """The bundled sample built once per session (see the module docstring)."""

    raw: Path  # data/sample: read it, never write it
    db: Path  # the warehouse: read-only, copy it before changing it
    work: Path  # the build's target/ and logs/
    log: str  # dbt's output


# Modules whose fixtures chain many builds, started first so that a parallel run does not
# wait on one of them alone at the end.
RUN_FIRST = ("test_stable_ids_dbt.py",)


def run_shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run that every xdist worker sees (each worker's own temporary
    folder is popen-gwN inside it); the run's temporary folder without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleBuild]:
    shared = run_shared_folder(tmp_path_factory)
    work = shared / "sample_build"
    db = work / "warehouse.duckdb"
    log = work / "dbt_build.log"
    with (shared / "sample_build.lock").open("w") as lock:
        # one worker builds, the others wait here and reuse its warehouse
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not log.exists():
            work.mkdir(exist_ok=True)
            result = dbt("build", raw_path=SAMPLE, db_path=db, work_dir=work)
            assert result.returncode == 0, result.stdout[-4000:]
            log.write_text(result.stdout)
        fcntl.flock(lock, fcntl.LOCK_UN)
    built = SampleBuild(raw=SAMPLE, db=db, work=work, log=log.read_text())
    before = db.stat()
    yield built
    after = db.stat()
    # a test that wrote the shared warehouse would change what the modules after it read
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns), (
        f"a test wrote the shared sample warehouse {db}: copy it first"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the integration modules first, RUN_FIRST before them (a stable sort: modules
    keep their order within each kind, tests theirs within a module)."""
    integration: dict[str, bool] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        integration[module] = integration.get(module, False) or bool(
            item.get_closest_marker("integration")
        )
    items.sort(
        key=lambda item: (
            not integration[item.nodeid.split("::")[0]],
            Path(item.nodeid.split("::")[0]).name not in RUN_FIRST,
        )
    )
