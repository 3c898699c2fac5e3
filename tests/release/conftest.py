"""The release's tests share one wheel, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_helpers import build_wheel, install_wheel


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the wheel."""
    home = tmp_path_factory.mktemp("venv")
    install_wheel(wheel, home)
    return home
