"""The scripts' tests, in-process: moto for what it answers, `sm_fakes` for Service Catalog and projects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sm_fakes import (
    MODEL_REGISTRY_DELETES,
    REGION,
    FakeProjects,
    FakeServiceCatalog,
    World,
    install,
    moto_model_registry_delete,
)
from standin_world import new_connection, prepare

import standin.moto_fixes  # noqa: F401 - moto then evaluates bucket policy conditions as AWS does
from scripts.common import Aws
from scripts.servicecatalog import render_variant
from seeding import assets

_ASSETS: dict[str, Any] = {}
_RENDERED: list[bytes] = []
_BUILD_ASSETS = assets.build_assets


def _cached_assets() -> dict[str, Any]:
    """The seed zips, built once per test session (they take ~0.5 s and do not change during it)."""
    if not _ASSETS:
        _ASSETS.update(_BUILD_ASSETS())
    return dict(_ASSETS)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[World]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setattr(assets, "build_assets", _cached_assets)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        sc, projects = FakeServiceCatalog(), FakeProjects()
        install(session, "service-catalog", sc.handle)
        install(session, "sagemaker", projects.handle, only=FakeProjects.OPERATIONS)
        install(session, "sagemaker", moto_model_registry_delete, only=MODEL_REGISTRY_DELETES)
        yield World(Aws(session), sc, projects)


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    """The v1 variant rendered now (so its seed keys are the current seed code's, as `register --render`)."""
    if not _RENDERED:
        _RENDERED.append(render_variant("mlops-third-party-git-v1"))
    path = tmp_path / "mlops-third-party-git-v1.yaml"
    path.write_bytes(_RENDERED[0])
    return path


@pytest.fixture
def aws(standin_env: dict[str, str]) -> Aws:
    """The session `sm-mlops` makes from the stand-in's environment; the service and Studio roles exist."""
    return prepare(Aws())


@pytest.fixture
def connection(aws: Aws) -> str:
    """A connection tagged sagemaker=true."""
    return new_connection(aws)
