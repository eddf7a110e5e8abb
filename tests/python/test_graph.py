"""The dbt graph flows one way, raw -> staging -> intermediate -> marts, checked on the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PROJECT_DIR, dbt

pytestmark = pytest.mark.integration  # dbt parses the project

# Marts built over other marts on purpose: each is a face of the mart it reads (audiences
# are predicates over the published 360 and churn features, the changes log diffs the
# membership, the masked 360 masks the 360). Any other mart reads only intermediate and
# staging models.
MARTS_OVER_MARTS = {
    "audience_membership": {"customer_360", "churn_features"},
    "audience_membership_changes": {"audience_membership"},
    "customer_360_masked": {"customer_360"},
}

# A mart is small enough to read at a glance: it reads at most this many models (the
# int_erased_customers of its erasure filter counts too). A mart that needs more reads
# intermediate models that group its inputs, as customer_360 reads
# int_customer_activity_summarised and source_data_quality int_source_flags_counted.
MAX_MODELS_READ_BY_A_MART = 7
# Marts allowed to read more, each with its reason. None today.
MARTS_READING_MORE: dict[str, str] = {}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("graph")
    result = dbt(
        "parse", raw_path=PROJECT_DIR / "data" / "sample", db_path=work / "w.duckdb", work_dir=work
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return json.loads((work / "target" / "manifest.json").read_text())


def layer(node: dict) -> str | None:
    if node.get("resource_type") != "model":
        return None
    return Path(node["original_file_path"]).parts[1]


def upstream_models(manifest: dict, node: dict) -> list[dict]:
    nodes = manifest["nodes"]
    return [nodes[d] for d in node["depends_on"]["nodes"] if d in nodes and layer(nodes[d])]


def test_no_intermediate_model_reads_a_mart(manifest: dict) -> None:
    backwards = [
        f"{node['name']} <- {parent['name']}"
        for node in manifest["nodes"].values()
        if layer(node) == "intermediate"
        for parent in upstream_models(manifest, node)
        if layer(parent) == "marts"
    ]
    assert backwards == []


def test_staging_reads_only_sources_and_seeds(manifest: dict) -> None:
    joined = [
        f"{node['name']} <- {parent['name']}"
        for node in manifest["nodes"].values()
        if layer(node) == "staging"
        for parent in upstream_models(manifest, node)
    ]
    assert joined == []


def test_marts_read_other_marts_only_as_their_faces(manifest: dict) -> None:
    reads = {
        node["name"]: {p["name"] for p in upstream_models(manifest, node) if layer(p) == "marts"}
        for node in manifest["nodes"].values()
        if layer(node) == "marts"
    }
    assert {name: parents for name, parents in reads.items() if parents} == MARTS_OVER_MARTS


def test_no_mart_reads_more_than_seven_models(manifest: dict) -> None:
    reads = {
        node["name"]: sorted(parent["name"] for parent in upstream_models(manifest, node))
        for node in manifest["nodes"].values()
        if layer(node) == "marts" and node["name"] not in MARTS_READING_MORE
    }
    too_wide = {
        name: parents for name, parents in reads.items() if len(parents) > MAX_MODELS_READ_BY_A_MART
    }
    assert too_wide == {}


def test_every_macro_is_documented(manifest: dict) -> None:
    """Each macro has a description in its folder's _<folder>__macros.yml (adapter variants,
    default__x and the like, are documented by the macro they implement)."""
    undocumented = sorted(
        macro["name"]
        for macro in manifest["macros"].values()
        if macro["package_name"] == "customer_360"
        and not macro["name"].startswith(("default__", "duckdb__", "spark__"))
        and not macro.get("description")
    )
    assert undocumented == []


def test_each_macro_file_holds_one_macro_named_like_it(manifest: dict) -> None:
    files: dict[str, set[str]] = {}
    for macro in manifest["macros"].values():
        if macro["package_name"] == "customer_360":
            name = macro["name"]
            for prefix in ("default__", "duckdb__", "spark__"):
                name = name.removeprefix(prefix)
            files.setdefault(macro["original_file_path"], set()).add(name)
    mismatched = {path: names for path, names in files.items() if names != {Path(path).stem}}
    assert mismatched == {}


def test_identity_tools_read_contracted_unpublished_views(manifest: dict) -> None:
    """The relations the Python identity tools read (c360.identity.workbench) are marts
    with an enforced contract, views outside the published schema main, and the tools'
    exposure depends on them; test_interfaces.py checks no tool reads intermediate."""
    from c360.identity import workbench

    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    read = [workbench.PERSON_RECORDS, workbench.SCORED_PAIRS]
    for relation in read:
        schema, name = relation.split(".")
        node = models[name]
        assert layer(node) == "marts", relation
        assert node["config"]["contract"]["enforced"], relation
        assert node["config"]["materialized"] == "view", relation
        assert node["schema"] == schema != "main", relation
    exposure = manifest["exposures"]["exposure.customer_360.identity_workbench"]
    assert {models[r.split(".")[1]]["unique_id"] for r in read} <= set(
        exposure["depends_on"]["nodes"]
    )


def test_the_report_reads_contracted_marts_its_exposure_names(manifest: dict) -> None:
    """Every relation the report reads (c360.report.queries.RELATIONS) is a mart with an
    enforced contract in the schema named, a view when outside the published schema main,
    and the report's exposure depends on it."""
    from c360.report import queries

    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    read = [relation for relation in queries.RELATIONS.values() if relation is not None]
    for relation in read:
        schema, name = relation.split(".")
        node = models[name]
        assert layer(node) == "marts", relation
        assert node["config"]["contract"]["enforced"], relation
        assert node["schema"] == schema, relation
        assert schema == "main" or node["config"]["materialized"] == "view", relation
    exposure = manifest["exposures"]["exposure.customer_360.reports"]
    assert {models[r.split(".")[1]]["unique_id"] for r in read} == set(
        exposure["depends_on"]["nodes"]
    )
