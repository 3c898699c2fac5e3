"""CodeBuild buildspecs (version 0.2): reading one, and collecting the files its ``artifacts`` section
names."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

PHASES = ("install", "pre_build", "build", "post_build")


class BuildspecError(ValueError):
    """A buildspec that cannot run; the message names the field and what to change."""


def parse_buildspec(text: str) -> dict[str, Any]:
    """Read a buildspec (YAML), checking what the runner relies on; errors name the field."""
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BuildspecError(f"buildspec: not valid YAML ({error}); fix the syntax") from error
    if not isinstance(spec, dict):
        raise BuildspecError("buildspec: expected a mapping with 'version' and 'phases'")
    if str(spec.get("version")) not in ("0.2", "0.1"):
        raise BuildspecError(f"buildspec 'version': got {spec.get('version')!r}, expected 0.2")
    phases = spec.get("phases") or {}
    if not isinstance(phases, dict):
        raise BuildspecError("buildspec 'phases': expected a mapping of phase name to {commands: [...]}")
    for name, phase in phases.items():
        if name not in PHASES:
            raise BuildspecError(f"buildspec 'phases.{name}': unknown phase; use one of {', '.join(PHASES)}")
        commands = (phase or {}).get("commands", [])
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise BuildspecError(f"buildspec 'phases.{name}.commands': expected a list of strings")
    variables = (spec.get("env") or {}).get("variables") or {}
    if not isinstance(variables, dict):
        raise BuildspecError("buildspec 'env.variables': expected a mapping of NAME: value")
    return spec


def _glob_files(base: Path, patterns: list[str]) -> list[Path]:
    found: dict[Path, None] = {}
    for pattern in patterns:
        pattern = pattern.strip().lstrip("./") if pattern.strip() not in ("", "./") else "**/*"
        if pattern.endswith("/**/*") or pattern == "**/*":
            root = base / pattern[: -len("**/*")] if pattern != "**/*" else base
            matches = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
        else:
            matches = [p for p in base.glob(pattern) if p.is_file()]
        for match in sorted(matches):
            found[match] = None
    return list(found)


def collect_artifacts(spec: dict[str, Any], src_dir: Path, out_dir: Path) -> None:
    """Copy the files ``spec`` (an ``artifacts`` section) names into ``out_dir``."""
    base = src_dir / spec.get("base-directory", ".")
    files = spec.get("files") or []
    if isinstance(files, str):
        files = [files]
    out_dir.mkdir(parents=True, exist_ok=True)
    matched = _glob_files(base, files)
    if not matched:
        raise BuildspecError(f"artifacts: no file in {base.relative_to(src_dir)} matches {files}")
    discard = str(spec.get("discard-paths", "no")).lower() in ("yes", "true")
    for path in matched:
        relative = Path(path.name) if discard else path.relative_to(base)
        destination = out_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
