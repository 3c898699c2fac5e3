"""The release's tests share one wheel, built once per run (once for all of pytest-xdist's workers: the sdist
build writes into the checkout, so two builds at once would collide)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from release_helpers import build_wheel, install_wheel


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build_wheel(tmp_path_factory.mktemp("dist"))
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, the same for every worker
    with (shared / "wheel.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = shared / "wheel.path"
        if not built.is_file():
            out = shared / "dist"
            out.mkdir()
            built.write_text(str(build_wheel(out)))
        return Path(built.read_text())


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the wheel."""
    home = tmp_path_factory.mktemp("venv")
    install_wheel(wheel, home)
    return home
