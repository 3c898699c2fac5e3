"""The fences of docs/DESIGN.md: which parts of the project may import which."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"generator", "permissions", "seeding", "scripts", "standin", "demo", "bench"}


def imported_top_levels(path: Path) -> set[str]:
    """Top-level module names a file imports, as `import x.y` or `from x.y import z`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and _loads_by_name(node) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def _loads_by_name(call: ast.Call) -> bool:
    """`importlib.import_module("x")`, `import_module("x")` or `__import__("x")`."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in {"import_module", "__import__"}


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("seedcode", PROJECT_PACKAGES),
        ("permissions", PROJECT_PACKAGES - {"permissions"}),
        ("generator", {"standin", "scripts", "demo"}),
        ("seeding", {"standin", "scripts", "demo"}),
        ("scripts", {"standin", "demo"}),
    ],
)
def test_folder_imports_nothing_forbidden(folder: str, forbidden: set[str]) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files(folder)
        for name in imported_top_levels(path)
        if name.split(".")[0] in forbidden
    ]
    assert not offenders, "\n".join(offenders)


def test_standin_imports_only_the_validator_of_the_generator() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files("standin")
        for name in imported_top_levels(path)
        if name.split(".")[0] in {"generator", "scripts", "demo"} and name != "generator.validation"
    ]
    assert not offenders, "\n".join(offenders)


def test_the_fence_check_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import importlib\nimport standin.server\nfrom generator.validation import check\n"
        "from . import local\nimportlib.import_module('scripts.cli')\n__import__('demo')\n"
    )
    assert imported_top_levels(sample) == {
        "importlib",
        "standin.server",
        "generator.validation",
        "scripts.cli",
        "demo",
    }
