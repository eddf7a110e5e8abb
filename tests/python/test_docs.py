"""The docs a newcomer reads stay short, true to the shared contract, and linked."""

from __future__ import annotations

import re

import pytest

from conftest import PROJECT_DIR

SHARED_CONTRACT = PROJECT_DIR.parent / "shared" / "source-contract.md"
DOCS = [
    PROJECT_DIR / "README.md",
    PROJECT_DIR / "BENCHMARKS.md",
    *sorted((PROJECT_DIR / "docs").glob("*.md")),
]


def test_readme_and_benchmarks_stay_short() -> None:
    assert len((PROJECT_DIR / "README.md").read_bytes()) < 15 * 1024
    assert len((PROJECT_DIR / "BENCHMARKS.md").read_bytes()) < 25 * 1024


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="../shared is not beside the checkout")
def test_the_source_contract_page_is_the_shared_contract() -> None:
    assert (PROJECT_DIR / "docs" / "source-contract.md").read_text() == SHARED_CONTRACT.read_text()


@pytest.mark.parametrize("page", DOCS, ids=lambda path: path.name)
def test_every_relative_link_resolves(page) -> None:
    text = page.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    missing = [
        target
        for target in targets
        if not re.match(r"[a-z]+:", target) and not (page.parent / target).exists()
    ]
    assert missing == []
