"""What a warm pip cache saves a model build on AWS: the bytes of the wheels that `pip install .` of the model
build seed downloads (its pinned SDK, everything that needs, and the build backend), which CodeBuild's S3
cache then serves instead of PyPI.

The set is the seed's `[project] dependencies` and `[build-system] requires` followed through the installed
distributions' metadata (the stand-in's environment holds the same pins). A wheel found in the local pip cache
(`pip cache dir`: downloaded bodies and built wheels) counts with its size; for the others the size is
estimated by deflating the files the distribution installed (a wheel is such a zip), and the row says so.
"""

from __future__ import annotations

import os
import re
import tomllib
import zipfile
import zlib
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seedcode" / "modelbuild"
ZIP_ENTRY_OVERHEAD = 100  # bytes per file: a zip's local header and central directory entry, about


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def seed_requirements(seed: Path = SEED) -> list[Requirement]:
    project = tomllib.loads((seed / "pyproject.toml").read_text())
    texts = project["project"]["dependencies"] + project["build-system"]["requires"]
    return [Requirement(text) for text in texts]


def closure(requirements: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Every installed distribution the requirements need, by normalised name."""
    found: dict[str, metadata.Distribution] = {}
    todo = [(r, "") for r in requirements]
    while todo:
        requirement, extra = todo.pop()
        environment = {**{k: str(v) for k, v in default_environment().items()}, "extra": extra}
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        name = _name(requirement.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for text in dist.requires or []:
            needed = Requirement(text)
            for wanted in [""] + sorted(requirement.extras):
                todo.append((needed, wanted))
    return found


def pip_cache_dir() -> Path:
    explicit = os.environ.get("PIP_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pip"


def cached_wheels(folder: Path) -> dict[tuple[str, str], int]:
    """(name, version) → size of each wheel pip's cache holds (downloaded bodies and built wheels)."""
    wheels: dict[tuple[str, str], int] = {}
    if not folder.is_dir():
        return wheels
    for path in folder.rglob("*"):
        if not path.is_file() or not (
            path.suffix in (".body", ".whl") or path.parent.name.startswith("http")
        ):
            continue
        try:
            with zipfile.ZipFile(path) as archive:
                meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
                headers = archive.read(meta).decode(errors="replace")
        except (zipfile.BadZipFile, StopIteration, OSError):
            continue
        name = re.search(r"^Name: (.+)$", headers, re.MULTILINE)
        version = re.search(r"^Version: (.+)$", headers, re.MULTILINE)
        if name and version:
            wheels[(_name(name.group(1).strip()), version.group(1).strip())] = path.stat().st_size
    return wheels


def estimated_wheel_size(dist: metadata.Distribution) -> int:
    """The size of a wheel of the files `dist` installed, deflated as a wheel's zip does (bytecode aside)."""
    total = 0
    for file in dist.files or []:
        if "__pycache__" in file.parts or file.suffix == ".pyc":
            continue
        path = Path(str(file.locate()))
        if path.is_file():
            total += len(zlib.compress(path.read_bytes(), 6)) + ZIP_ENTRY_OVERHEAD
    return total


def run() -> list[tuple[str, str]]:
    requirements = seed_requirements()
    dists = closure(requirements)
    cache = pip_cache_dir()
    wheels = cached_wheels(cache)
    cached = estimated = 0
    found = 0
    for name, dist in dists.items():
        size = wheels.get((name, dist.version))
        if size is not None:
            cached += size
            found += 1
        else:
            estimated += estimated_wheel_size(dist)
    pins = ", ".join(str(r) for r in requirements)
    return [
        (
            "what pip install . of the model build seed needs",
            f"{len(dists)} distributions ({pins} and theirs)",
        ),
        (f"wheels found in the local pip cache ({cache})", f"{found}: {cached:,} bytes"),
        (
            "wheels not in it, size estimated (installed files deflated)",
            f"{len(dists) - found}: {estimated:,} bytes",
        ),
        (
            "bytes a warm pip cache saves each model build",
            f"{cached + estimated:,} ({(cached + estimated) / 1e6:.0f} MB)",
        ),
    ]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label}: {value}")
