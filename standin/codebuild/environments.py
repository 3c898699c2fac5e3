"""CodeBuild build environments: the variables a build sees and the Python it runs.

- the environment: a clean base (no variable of the calling process leaks in, so never the real ``HOME``
  or ``GIT_CONFIG_GLOBAL``), the stand-in's ``.env``, the project's variables, ``env.variables`` of the
  buildspec, the call's overrides, ``CODEBUILD_*`` variables, and a fresh ``HOME`` per build;
- ``python3``/``pip`` from a virtual environment made once per requirements hash (the hash of the sources'
  ``requirements*.txt``, ``setup.py``, ``setup.cfg``, ``pyproject.toml``) that sees the stand-in's own
  packages (the SageMaker SDK, boto3, the AWS CLI) through a ``.pth`` file, so ``pip install .`` of a seed
  finds its dependencies already there and the second build with the same requirements reuses the first's.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from standin.codebuild.builds import BuildResult

REQUIREMENT_FILES = ("requirements.txt", "setup.py", "setup.cfg", "pyproject.toml")
# Variables of the calling process a build may see; everything else comes from the stand-in and the project.
PASSED_THROUGH = ("LANG", "LC_ALL", "TZ", "TMPDIR")


def requirements_hash(*folders: Path | None) -> str:
    """A hash of the requirement files found at the top of the given source folders."""
    digest = hashlib.sha256()
    for folder in folders:
        if folder is None:
            continue
        for candidate in sorted(folder.iterdir()) if folder.is_dir() else []:
            if candidate.is_file() and (
                candidate.name in REQUIREMENT_FILES or fnmatch.fnmatch(candidate.name, "requirements*.txt")
            ):
                digest.update(candidate.name.encode() + b"\0" + candidate.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class VenvCache:
    """Virtual environments by requirements hash, each seeing the stand-in's own site-packages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pip_cache = root / "pip-cache"
        self._lock = threading.Lock()

    def get(self, key: str) -> Path:
        target = self.root / f"venv-{key}"
        with self._lock:
            if (target / "bin" / "python3").exists():
                return target
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".venv-{key}-", dir=self.root))
            shutil.rmtree(staging)
            # --without-pip: pip comes from the stand-in's site-packages through the .pth file (fast).
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", str(staging)], check=True, capture_output=True
            )
            site = next((staging / "lib").glob("python3*/site-packages"))
            parents = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
            (site / "standin-base.pth").write_text("".join(f"{p}\n" for p in parents))
            python = staging / "bin" / "python"
            for name in ("pip", "pip3"):
                shim = staging / "bin" / name
                # The shim points at the final location, where the venv is moved below.
                shim.write_text(f'#!/bin/sh\nexec "{target}/bin/python" -m pip "$@"\n')
                shim.chmod(0o755)
            if not python.exists():
                raise RuntimeError(f"virtual environment at {staging} has no python")
            try:
                staging.rename(target)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
            return target


def declared_names(
    project: Mapping[str, Any], spec: dict[str, Any], overrides: Mapping[str, str] | None
) -> set[str]:
    """The variables a build's record shows: the project's, the buildspec's and the call's overrides."""
    names = {v["name"] for v in (project.get("environment") or {}).get("environmentVariables") or []}
    names |= set(((spec.get("env") or {}).get("variables") or {}).keys())
    return names | set(overrides or {})


def build_environment(
    base: Mapping[str, str],
    pip_cache: Path,
    build: BuildResult,
    project: Mapping[str, Any],
    spec: dict[str, Any],
    src_dir: Path,
    secondary_dirs: dict[str, Path],
    overrides: Mapping[str, str] | None,
    venv: Path,
    home: Path,
) -> dict[str, str]:
    """Every variable a build's commands see (see the module's docstring for the order)."""
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    env.update(base)
    own_bin = str(Path(sys.executable).parent)
    env.update(
        {
            "HOME": str(home),
            "PATH": os.pathsep.join([str(venv / "bin"), own_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
            "VIRTUAL_ENV": str(venv),
            "PIP_CACHE_DIR": str(pip_cache),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            # Offline like the rest of the stand-in: what a build installs must already be in the
            # stand-in's environment (SageMaker SDK, boto3, setuptools); `pip install .` then needs no
            # index and no isolated build environment. (missing package: pip's error).
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "CODEBUILD_BUILD_ID": build.build_id,
            "CODEBUILD_BUILD_ARN": build.arn,
            "CODEBUILD_BUILD_NUMBER": str(build.build_number),
            "CODEBUILD_SRC_DIR": str(src_dir),
            "CODEBUILD_INITIATOR": "standin",
            "CODEBUILD_BUILD_SUCCEEDING": "1",
            "AWS_REGION": build.region,
            "AWS_DEFAULT_REGION": build.region,
        }
    )
    for identifier, folder in secondary_dirs.items():
        env[f"CODEBUILD_SRC_DIR_{identifier}"] = str(folder)
    for variable in (project.get("environment") or {}).get("environmentVariables") or []:
        env[variable["name"]] = str(variable.get("value", ""))
    for name, value in ((spec.get("env") or {}).get("variables") or {}).items():
        env[str(name)] = "" if value is None else str(value)
    env.update({k: str(v) for k, v in (overrides or {}).items()})
    return env
