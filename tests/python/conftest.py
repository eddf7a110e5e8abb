"""Shared fixtures: run the real dbt project against a raw folder in a temporary DuckDB file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
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
