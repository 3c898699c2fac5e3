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


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AWS setting from the machine: no profile, no region, no retry settings, empty config files."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch
