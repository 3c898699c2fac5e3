"""AWS's failures name the fix, as the project's own errors do: credentials, endpoints, access, throttling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from scripts import cli
from scripts.common import FAILURE, NOT_FOUND, Aws

DENIED = (
    "User: arn:aws:sts::111122223333:assumed-role/PlatformAdmin/jo is not authorized to perform: "
    "servicecatalog:CreatePortfolio on resource: arn:aws:catalog:eu-west-1:111122223333:portfolio/* "
    "because no identity-based policy allows the servicecatalog:CreatePortfolio action"
)


@pytest.fixture
def isolated(clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No AWS setting from the machine, in eu-west-1."""
    clean_env.setenv("AWS_REGION", "eu-west-1")
    return clean_env


def stubbed_sm_mlops(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], **error: Any
) -> tuple[int, str]:
    """Run `sm-mlops ARGV` whose first STS call answers the given error (botocore's Stubber)."""
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="eu-west-1"
    )
    sts = session.client("sts")
    stubber = Stubber(sts)
    stubber.add_client_error("get_caller_identity", **error)
    stubber.activate()
    monkeypatch.setattr(cli, "_aws", lambda args: Aws(session, _clients={"sts": sts}))
    code = cli.main(argv)
    return code, capsys.readouterr().err


def test_access_denied_names_the_action_the_resource_the_identity_and_the_role_to_change(
    isolated: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = stubbed_sm_mlops(
        isolated,
        capsys,
        ["register", "--dry-run", "--studio-role-arn", "arn:aws:iam::111122223333:role/S"],
        service_error_code="AccessDenied",
        service_message=DENIED,
        http_status_code=403,
    )
    assert code == FAILURE
    assert "servicecatalog:CreatePortfolio" in err
    assert "arn:aws:catalog:eu-west-1:111122223333:portfolio/*" in err
    assert "arn:aws:sts::111122223333:assumed-role/PlatformAdmin/jo" in err
    assert (
        "Fix: allow servicecatalog:CreatePortfolio on arn:aws:catalog:eu-west-1:111122223333:portfolio/*"
        in err
    )
    assert "attached to role PlatformAdmin" in err


def test_an_explicit_deny_is_said_to_be_one(
    isolated: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    message = DENIED.replace(
        "because no identity-based policy allows", "with an explicit deny in a service control policy"
    )
    code, err = stubbed_sm_mlops(
        isolated,
        capsys,
        ["register", "--dry-run", "--studio-role-arn", "arn:aws:iam::111122223333:role/S"],
        service_error_code="AccessDenied",
        service_message=message,
        http_status_code=403,
    )
    assert code == FAILURE
    assert "explicit Deny" in err and "service control policy" in err


def test_throttling_says_it_was_retried_and_how_to_retry_longer(
    isolated: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = stubbed_sm_mlops(
        isolated,
        capsys,
        ["register", "--dry-run", "--studio-role-arn", "arn:aws:iam::111122223333:role/S"],
        service_error_code="Throttling",
        service_message="Rate exceeded",
        http_status_code=400,
        response_meta={"RetryAttempts": 4},
    )
    assert code == FAILURE
    assert "throttled GetCallerIdentity" in err and "after 4 retries" in err
    assert "AWS_MAX_ATTEMPTS" in err and "AWS_RETRY_MODE=adaptive" in err


def test_no_credentials_lists_where_botocore_looked(
    isolated: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = cli.main(["register", "--dry-run", "--studio-role-arn", "arn:aws:iam::111122223333:role/S"])
    err = capsys.readouterr().err
    assert code == NOT_FOUND
    assert "AWS_ACCESS_KEY_ID" in err and str(tmp_path / "credentials") in err and "instance" in err
    assert "Fix:" in err and "AWS_PROFILE" in err


def test_an_endpoint_that_does_not_answer_names_aws_endpoint_url(
    isolated: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolated.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    isolated.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    isolated.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    isolated.setenv("AWS_MAX_ATTEMPTS", "1")
    code = cli.main(["register", "--dry-run", "--studio-role-arn", "arn:aws:iam::111122223333:role/S"])
    err = capsys.readouterr().err
    assert code == FAILURE
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:9" in err and "make standin" in err
