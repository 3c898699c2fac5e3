"""Every `# noqa` names a rule that ruff runs where the file lives, and every `# type: ignore` names the mypy
error it silences: a suppression of a rule nobody runs hides nothing and misleads the reader."""

from __future__ import annotations

import functools
import io
import re
import subprocess
import tokenize
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?")
TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[a-z0-9-, ]+\])?")


def tracked_python() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    return [REPO / line for line in out.stdout.split()]


def comments(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each comment: noqa and type: ignore only count there, not in strings."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [(token.start[0], token.string) for token in tokens if token.type == tokenize.COMMENT]


@functools.cache
def selected_rules(start: Path) -> list[str]:
    """The rule prefixes of the ruff configuration for the files of folder `start` (the nearest one at or
    above it), read once per folder."""
    for folder in (start, *start.parents):
        if (folder / "ruff.toml").is_file():
            return tomllib.loads((folder / "ruff.toml").read_text())["lint"]["select"]
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            config = tomllib.loads(pyproject.read_text()).get("tool", {}).get("ruff")
            if config:
                return config["lint"]["select"]
        if folder == REPO:
            break
    raise AssertionError(f"no ruff configuration applies to {start}")


def test_every_noqa_names_a_rule_ruff_runs_there() -> None:
    wrong = []
    for path in tracked_python():
        rules, name = selected_rules(path.parent), path.relative_to(REPO)
        for number, line in comments(path):
            for found in NOQA.finditer(line):
                codes = found.group("codes")
                if codes is None:
                    wrong.append(f"{name}:{number}: a bare noqa silences every rule")
                    continue
                for code in re.split(r"\s*,\s*", codes):
                    if not any(code.startswith(prefix) for prefix in rules):
                        wrong.append(f"{name}:{number}: {code} is not a rule ruff runs here")
    assert wrong == []


def test_every_type_ignore_names_its_error() -> None:
    wrong = [
        f"{path.relative_to(REPO)}:{number}"
        for path in tracked_python()
        for number, line in comments(path)
        for found in TYPE_IGNORE.finditer(line)
        if found.group("codes") is None
    ]
    assert wrong == []
