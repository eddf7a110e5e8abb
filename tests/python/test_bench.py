"""Smoke test of the benchmark harness on a tiny population (not a timed test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from c360.bench import IDENTITY_MODELS, raw_folder, run, table
from conftest import query

pytestmark = pytest.mark.integration

PERSONS = 500
SEED = 5


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    work = tmp_path_factory.mktemp("bench")
    result = run(PERSONS, SEED, work / "run", work / "data")
    return result, work / "run", work / "data"


@pytest.fixture(scope="module")
def hard_bench(bench: tuple[dict, Path, Path]) -> tuple[dict, Path]:
    """The same persons and seed on hard data, into the same cache (without naive Splink)."""
    _, out, data = bench
    result = run(PERSONS, SEED, out.parent / "run_hard", data, naive=False, difficulty="hard")
    return result, out.parent / "run_hard"


def test_report_has_build_timings_memory_and_throughput(bench: tuple[dict, Path, Path]) -> None:
    result, out, _ = bench
    assert json.loads((out / "result.json").read_text()) == result
    build = result["build"]
    assert build["nodes"] > 100 and build["nodes_passed"] == build["nodes"]
    assert 0 < build["dbt_elapsed_seconds"] < build["wall_seconds"]
    assert 100 < build["peak_rss_mb"] < 8 * 1024
    assert build["peak_rss_tree_sampled_mb"] > 50
    for model in (*IDENTITY_MODELS, "stg_web__events", "customer_identifiers"):
        assert build["model_seconds"][model] > 0
    records = query(
        Path(build["warehouse"]), "select count(*) from intermediate.int_person_records_unioned"
    )[0][0]
    assert result["person_records"] == records > PERSONS
    identity = result["identity"]
    assert identity["seconds"] == pytest.approx(
        sum(build["model_seconds"][m] for m in IDENTITY_MODELS), abs=0.01
    )
    assert identity["records_per_second"] == pytest.approx(records / identity["seconds"], rel=0.01)


def test_report_compares_accuracy_and_time_with_naive_splink(
    bench: tuple[dict, Path, Path],
) -> None:
    result, _, _ = bench
    accuracy = result["accuracy"]
    assert set(accuracy) == {"customer_360", "same_pairs_no_guards", "naive_splink"}
    for metrics in accuracy.values():
        assert metrics["records"] == result["person_records"]
        assert 0.5 < metrics["b3_f1"] <= 1 and 0 < metrics["pairwise_precision"] <= 1
    assert accuracy["customer_360"]["b3_f1"] >= 0.93
    versus = result["versus_naive"]
    assert versus["naive_seconds"] > 0
    assert versus["speedup"] == pytest.approx(
        versus["naive_seconds"] / versus["identity_seconds"], rel=0.01
    )
    assert versus["b3_f1_ratio"] == pytest.approx(
        accuracy["customer_360"]["b3_f1"] / accuracy["naive_splink"]["b3_f1"], abs=1e-4
    )


def test_generated_data_is_cached_per_persons_and_seed(bench: tuple[dict, Path, Path]) -> None:
    result, _, data = bench
    folder, seconds = raw_folder(PERSONS, SEED, data)
    assert seconds is None  # reused, not generated again
    assert str(folder) == result["raw_folder"]
    assert (folder / "web_events.parquet").exists()


def test_hard_data_is_cached_apart_and_builds(
    bench: tuple[dict, Path, Path], hard_bench: tuple[dict, Path]
) -> None:
    default, _, data = bench
    hard, out = hard_bench
    assert (default["difficulty"], hard["difficulty"]) == ("default", "hard")
    folder, seconds = raw_folder(PERSONS, SEED, data, "hard")
    assert seconds is None and str(folder) == hard["raw_folder"] != default["raw_folder"]
    assert json.loads((folder / ".complete").read_text())["difficulty"] == "hard"
    # hard data plants extra person records (re-issued cards, work accounts)
    assert hard["person_records"] > default["person_records"]
    assert hard["build"]["nodes_passed"] == hard["build"]["nodes"]
    assert set(hard["accuracy"]) == {"customer_360", "same_pairs_no_guards"}
    assert 0.5 < hard["accuracy"]["customer_360"]["b3_f1"] <= 1
    assert "versus_naive" not in hard
    assert json.loads((out / "result.json").read_text()) == hard


def test_table_has_a_row_per_result_with_its_difficulty(
    bench: tuple[dict, Path, Path], hard_bench: tuple[dict, Path], capsys: pytest.CaptureFixture
) -> None:
    _, out, _ = bench
    _, hard_out = hard_bench
    table([out / "result.json", hard_out / "result.json"])
    lines = capsys.readouterr().out.splitlines()
    assert "| data |" in lines[0] and len(lines) == 4
    assert lines[2].startswith(f"| {PERSONS} | {SEED} | default |")
    assert lines[3].startswith(f"| {PERSONS} | {SEED} | hard |")
    assert lines[3].endswith("(-) |")  # no naive figures on the hard run
