"""Fixtures: fake AWS credentials, and moto answering S3 and STS so definitions build offline.

One moto mock serves the whole session (building a definition takes about a second), so tests that
build with the default kwargs share one `definition`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import BUCKET, OFFLINE_ENV, PIPELINE_KWARGS, REGION


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """moto's in-process mock of every AWS API, with the artifact bucket created."""
    from moto import mock_aws

    home: Path = tmp_path_factory.mktemp("aws-home")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in OFFLINE_ENV.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", str(home / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
        with mock_aws():
            import boto3

            boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
            yield


@pytest.fixture(scope="session")
def build_definition(aws: None) -> Callable[..., dict[str, Any]]:
    """Build the abalone pipeline's definition (as a dict) with the template's kwargs, plus overrides."""
    from pipelines.abalone.pipeline import get_pipeline

    def build(**overrides: Any) -> dict[str, Any]:
        return json.loads(get_pipeline(**{**PIPELINE_KWARGS, **overrides}).definition())

    return build


@pytest.fixture(scope="session")
def definition(build_definition: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The definition built with the template's kwargs (shared; do not modify)."""
    return build_definition()
