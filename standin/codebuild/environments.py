"""CodeBuild build environments: the variables a build sees and the Python it runs.

- the environment: a clean base (no variable of the calling process leaks in, so never the real ``HOME``
  or ``GIT_CONFIG_GLOBAL``), the stand-in's ``.env``, the project's variables, ``env.variables`` of the
  buildspec, the call's overrides, ``CODEBUILD_*`` variables, and a fresh ``HOME`` per build;
- ``python3``/``pip`` from a virtual environment made once per requirements hash (the hash of the sources'
  ``requirements*.txt``, ``setup.py``, ``setup.cfg``, ``pyproject.toml``) that sees the stand-in's own
  packages (the SageMaker SDK, boto3, the AWS CLI) through a ``.pth`` file, so ``pip install .`` of a seed
  finds its dependencies already there; the environments (and pip's cache) are kept per user across projects
  and stand-in runs (``VenvCache``), and each build runs in its own copy, as each CodeBuild build starts
  from a clean image.
"""

from __future__ import annotations

import fcntl
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


def default_cache_root() -> Path:
    """Where build environments are kept between stand-in runs: ``$STANDIN_BUILD_CACHE``, else
    ``$XDG_CACHE_HOME/sm-mlops-standin`` (``~/.cache/sm-mlops-standin``)."""
    explicit = os.environ.get("STANDIN_BUILD_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sm-mlops-standin"


class VenvCache:
    """Build environments by requirements hash, shared by every project and every stand-in run of a user.

    The cache keeps one virtual environment per key (the requirements hash and the interpreter it points at),
    seeing the stand-in's own site-packages through a ``.pth`` file. A build never runs in it: ``checkout``
    copies it into the build's own folder (a few small files: the interpreter is a symbolic link), so what a
    build installs stays in that build. Making an environment is guarded by a lock file and ends with an
    atomic rename, so stand-ins in several processes (parallel tests) can share the cache."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_root()
        self.pip_cache = self.root / "pip-cache"
        self._lock = threading.Lock()

    def key(self, requirements: str) -> str:
        """The requirements' hash with the interpreter and the site-packages the environment sees."""
        identity = "\0".join([requirements, sys.executable, sys.version, *_base_site_packages()])
        return hashlib.sha256(identity.encode()).hexdigest()[:16]

    def get(self, requirements: str) -> Path:
        """The cached environment for ``requirements`` (a ``requirements_hash``), made on first use."""
        target = self.root / f"venv-{self.key(requirements)}"
        if (target / "bin" / "python3").exists():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock, (self.root / f".lock-{target.name}").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be making the same environment
            if not (target / "bin" / "python3").exists():
                self._make(target)
        return target

    def checkout(self, requirements: str, destination: Path) -> Path:
        """A build's own copy of the cached environment for ``requirements`` at ``destination``."""
        template = self.get(requirements)
        shutil.copytree(template, destination, symlinks=True)
        for script in (destination / "bin").iterdir():
            # bin/activate* name the environment's folder; the pip shims and python are location-free.
            if script.is_file() and not script.is_symlink() and script.name.startswith("activate"):
                text = script.read_text(errors="surrogateescape")
                script.write_text(text.replace(str(template), str(destination)), errors="surrogateescape")
        return destination

    def _make(self, target: Path) -> None:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=self.root))
        shutil.rmtree(staging)
        try:
            # --without-pip: pip comes from the stand-in's site-packages through the .pth file (fast).
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", str(staging)], check=True, capture_output=True
            )
            site = next((staging / "lib").glob("python3*/site-packages"))
            (site / "standin-base.pth").write_text("".join(f"{p}\n" for p in _base_site_packages()))
            for name in ("pip", "pip3"):
                shim = staging / "bin" / name
                shim.write_text('#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n')
                shim.chmod(0o755)
            if not (staging / "bin" / "python").exists():
                raise RuntimeError(f"virtual environment at {staging} has no python")
            for script in (staging / "bin").iterdir():
                if script.is_file() and not script.is_symlink() and script.name.startswith("activate"):
                    text = script.read_text(errors="surrogateescape")
                    script.write_text(text.replace(str(staging), str(target)), errors="surrogateescape")
            staging.rename(target)  # atomic: a reader sees no environment or a whole one
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _base_site_packages() -> list[str]:
    return [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]


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
