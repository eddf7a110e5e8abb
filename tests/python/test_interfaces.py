"""The Python tools read contracted marts, never the intermediate layer (issue 19).

Identity resolution and the other intermediate models may change inside (a table renamed,
split, its columns reshaped) without notice; the tools that read the warehouse from outside
dbt go through contracted views (models/marts/identity_workbench, models/marts/privacy,
churn_workbench.churn_training_sample for the report).
This scans every module of the package for SQL naming an intermediate relation, so a tool
cannot start reading one again unnoticed. Builds nothing: part of `make unit`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import PROJECT_DIR

PACKAGE = PROJECT_DIR / "src" / "c360"
# SQL reading an intermediate relation (`from intermediate.x`, `join intermediate.x`), or a
# relation name on its own (a mapping of the relations a module reads).
INTERMEDIATE_READ = re.compile(
    r"\b(from|join)\s+intermediate\.\w+|^\s*intermediate\.\w+\s*$", re.IGNORECASE
)
# Modules allowed to read intermediate relations, and why. None today: the report reads the
# identity workbench views and churn_workbench.churn_training_sample.
ALLOWED: dict[str, str] = {}


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (prose about the layers, not SQL)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def intermediate_reads(path: Path, root: Path = PACKAGE) -> list[str]:
    """Each string of `path` (f-string parts included) that reads an intermediate relation."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = docstrings(tree)
    return [
        f"{path.relative_to(root)}: {node.value.strip()[:80]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and any(INTERMEDIATE_READ.search(line) for line in node.value.splitlines())
    ]


def test_the_scan_finds_an_intermediate_read(tmp_path: Path) -> None:
    module = tmp_path / "tool.py"
    module.write_text(
        '"""Reads intermediate.int_x (a docstring: prose)."""\n'
        'A = "select * from intermediate.int_a"\n'
        'B = f"select {1} from x\\n  join Intermediate.int_b using (id)"\n'
        'C = {"records": "intermediate.int_c"}\n'
        'D = "the damaged row stays in intermediate.int_d"\n'
    )
    reads = intermediate_reads(module, tmp_path)
    assert [re.findall(r"int_\w", hit) for hit in reads] == [["int_a"], ["int_b"], ["int_c"]]


def test_no_tool_reads_an_intermediate_relation() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert any(path.name == "train.py" for path in modules)
    reads = [
        hit
        for path in modules
        if path.relative_to(PACKAGE).as_posix() not in ALLOWED
        for hit in intermediate_reads(path)
    ]
    assert reads == []


def test_allowed_modules_still_exist() -> None:
    """An allowance outlives its module only by mistake."""
    assert all((PACKAGE / module).is_file() for module in ALLOWED)
