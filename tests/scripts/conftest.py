"""The scripts' tests, in-process, on the stand-in (moto behind the stand-in's own services)."""

from __future__ import annotations

from pathlib import Path

import pytest
from standin_world import new_connection, prepare

from scripts.common import Aws
from scripts.servicecatalog import render_variant

_RENDERED: list[bytes] = []


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    """The v1 variant rendered now (so its seed keys are the current seed code's, as `register --render`)."""
    if not _RENDERED:
        _RENDERED.append(render_variant("mlops-third-party-git-v1"))
    path = tmp_path / "mlops-third-party-git-v1.yaml"
    path.write_bytes(_RENDERED[0])
    return path


@pytest.fixture
def aws(standin_env: dict[str, str], cached_assets: None) -> Aws:
    """The session `sm-mlops` makes from the stand-in's environment; the service and Studio roles exist."""
    return prepare(Aws())


@pytest.fixture
def connection(aws: Aws) -> str:
    """A connection tagged sagemaker=true."""
    return new_connection(aws)
