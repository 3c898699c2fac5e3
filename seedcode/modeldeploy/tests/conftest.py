"""Shared fixtures: moto answers SageMaker in-process; no test reaches AWS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

REPO = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, so nothing can sign a request for a real account."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture(scope="session")
def _mock() -> Iterator[object]:
    """One moto mock for the session (starting one costs ~0.5 s); each test resets its state."""
    with mock_aws() as mock:
        yield mock


@pytest.fixture
def sagemaker(_mock: object, aws_credentials: None) -> object:
    _mock.reset()  # type: ignore[attr-defined]
    return boto3.client("sagemaker", region_name=REGION)
