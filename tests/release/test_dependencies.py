"""The declared dependencies are what the code imports: install_requires for the command, the `standin`
extra for the local AWS and what its builds and jobs run."""

from __future__ import annotations

import ast
import configparser
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# Ours, and the seed repository's own package.
OWN = {"generator", "permissions", "scripts", "seeding", "standin", "demo", "bench", "tests", "pipelines"}


def imported(paths: list[Path]) -> set[str]:
    """The distributions whose top-level modules these files import (not the standard library, not ours)."""
    modules: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = sorted(m for m in modules - OWN if m not in sys.stdlib_module_names)
    owners = packages_distributions()
    unknown = [m for m in third_party if m not in owners]
    assert not unknown, f"imported but installed by no distribution: {unknown}"
    return {canonicalize_name(owners[m][0]) for m in third_party}


def declared(section: str, key: str) -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = [line for line in config[section][key].splitlines() if line.strip()]
    return {canonicalize_name(Requirement(line).name) for line in lines}


def python_files(*folders: str, skip: tuple[str, ...] = ()) -> list[Path]:
    return [
        path
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not any(part in skip for part in path.relative_to(ROOT).parts)
    ]


def test_install_requires_is_exactly_what_the_installed_packages_import() -> None:
    # seeding/bootstrap runs in CodeBuild, not in the installed command; it ships as a zip.
    used = imported(python_files("generator", "scripts", "seeding", skip=("bootstrap",)))
    assert used == declared("options", "install_requires")


def test_the_standin_extra_covers_its_imports_and_what_its_builds_and_jobs_run() -> None:
    runtime = declared("options", "install_requires")
    extra = declared("options.extras_require", "standin")
    # The pytest plugin is loaded by pytest itself.
    assert imported(python_files("standin", skip=("pytest_plugin.py",))) <= runtime | extra
    # Jobs run the seed's pipeline code in the stand-in's own Python.
    pipeline_code = python_files("seedcode/modelbuild/pipelines")
    seed_requirements = (ROOT / "seedcode/modelbuild/requirements/base.txt").read_text().splitlines()
    pins = [line for line in seed_requirements if line.strip() and not line.startswith(("#", "-"))]
    seeds = {canonicalize_name(Requirement(line).name) for line in pins}
    assert imported(pipeline_code) | seeds <= runtime | extra
    buildspecs = [*ROOT.glob("seedcode/*/*buildspec.yml"), ROOT / "seeding/bootstrap/buildspec.yml"]
    if any(re.search(r"(^|[\s'!])aws ", spec.read_text(), re.MULTILINE) for spec in buildspecs):
        assert "awscli" in extra


def test_the_lock_pins_every_package_with_its_hashes() -> None:
    """requirements/dev.txt is what `pip install --require-hashes` accepts: exact pins, each with hashes,
    and no index of this machine written into it."""
    text = (ROOT / "requirements" / "dev.txt").read_text()
    entries = [e for e in text.replace("\\\n", " ").splitlines() if e.strip() and not e.startswith("#")]
    assert len(entries) > 100, "the lock lost its pins"
    for entry in entries:
        requirement, *options = entry.split()
        assert "==" in requirement, f"{requirement} is not pinned exactly"
        assert any(o.startswith("--hash=sha256:") for o in options), f"{requirement} has no hash"
    assert "--index-url" not in text and "--find-links" not in text
    assert "--require-hashes -r requirements/dev.txt" in (ROOT / "Makefile").read_text()
