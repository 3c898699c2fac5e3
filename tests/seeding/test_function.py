"""The seed check-in Lambda against a stubbed CodeBuild and a local CloudFormation response URL."""

from __future__ import annotations

import http.server
import json
import threading
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from generator.seeding import function_code
from seeding import function

BUILD_ID = "sagemaker-demo-p-abcdef123456-git-seedcodecheckin:0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
CONNECTION = "arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
PROPERTIES = {
    "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:sagemaker-p-abcdef123456-checkin",
    "CodeBuildProjectName": "sagemaker-demo-p-abcdef123456-git-seedcodecheckin",
    "SeedCodeBucket": "sagemaker-mlops-assets-123456789012-eu-west-1",
    "SeedCodeKey": "seedcode/modelbuild-0123456789abcdef.zip",
    "ConnectionArn": CONNECTION,
    "FullRepositoryName": "my-org/demo-modelbuild",
    "Branch": "main",
}
EXPECTED_URL = (
    "https://codeconnections.eu-west-1.amazonaws.com/git-http/123456789012/eu-west-1/"
    "0a1b2c3d-1111-2222-3333-444455556666/my-org/demo-modelbuild.git"
)


class Clock:
    """Fake time: `sleep` advances it; the Lambda context counts down from its budget."""

    def __init__(self, budget_seconds: float) -> None:
        self.now = 0.0
        self.budget = budget_seconds
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.budget - self.now) * 1000)


class Capture(http.server.BaseHTTPRequestHandler):
    answers: list[dict[str, Any]]

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.answers.append({"body": json.loads(body), "content_type": self.headers.get("Content-Type")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    answers: list[dict[str, Any]] = []
    handler = type("Handler", (Capture,), {"answers": answers})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cfn-response?signature=abc", answers
    server.shutdown()
    server.server_close()


@pytest.fixture
def codebuild(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    client = boto3.client(
        "codebuild", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def event(url: str, request: str = "Create", **extra: Any) -> dict[str, Any]:
    base = {
        "RequestType": request,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/SC-123456789012-pp-abc/guid",
        "RequestId": "request-1",
        "LogicalResourceId": "SageMakerModelBuildSeedCodeCheckinProjectTriggerLambdaInvoker",
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": dict(PROPERTIES),
    }
    base.update(extra)
    return base


def build(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": BUILD_ID, "buildStatus": status, **extra}


def expect_start(stubber: Stubber, props: dict[str, str] = PROPERTIES, url: str = EXPECTED_URL) -> None:
    key = props["SeedCodeKey"]
    overrides = [
        {"name": "REPOSITORY_URL", "value": url, "type": "PLAINTEXT"},
        {"name": "REPOSITORY_BRANCH", "value": props["Branch"], "type": "PLAINTEXT"},
        {"name": "SEED_CODE_S3_URI", "value": f"s3://{props['SeedCodeBucket']}/{key}", "type": "PLAINTEXT"},
        {"name": "SEED_CODE_ID", "value": key.rsplit("/", 1)[-1], "type": "PLAINTEXT"},
    ]
    stubber.add_response(
        "start_build",
        {"build": build("IN_PROGRESS")},
        {"projectName": props["CodeBuildProjectName"], "environmentVariablesOverride": overrides},
    )


def the_answer(answers: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(answers) == 1, f"expected exactly one answer to CloudFormation, got {len(answers)}"
    assert answers[0]["content_type"] == "", "a pre-signed S3 URL needs an empty Content-Type"
    return answers[0]["body"]


def test_create_seeds_and_answers_with_the_proxy_url(response_url, codebuild) -> None:
    url, answers = response_url
    client, stubber = codebuild
    expect_start(stubber)
    stubber.add_response("batch_get_builds", {"builds": [build("IN_PROGRESS")]}, {"ids": [BUILD_ID]})
    stubber.add_response("batch_get_builds", {"builds": [build("SUCCEEDED")]}, {"ids": [BUILD_ID]})
    clock = Clock(900)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"] == {"url": EXPECTED_URL}
    assert answer["PhysicalResourceId"] == (
        "sagemaker-demo-p-abcdef123456-git-seedcodecheckin/SageMakerModelBuildSeedCodeCheckinProjectTriggerLambdaInvoker"
    )
    assert answer["RequestId"] == "request-1" and answer["StackId"].startswith("arn:aws:cloudformation:")
    assert clock.sleeps == [function.POLL_SECONDS, function.POLL_SECONDS]


@pytest.mark.parametrize(
    ("case", "arn", "url_prefix"),
    [
        (
            "codestar-connections",
            "arn:aws:codestar-connections:us-east-1:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666",
            "https://codestar-connections.us-east-1.amazonaws.com/git-http/111122223333/us-east-1/",
        ),
        (
            "codeconnections",
            "arn:aws:codeconnections:us-west-2:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666",
            "https://codeconnections.us-west-2.amazonaws.com/git-http/111122223333/us-west-2/",
        ),
        (
            "china partition",
            "arn:aws-cn:codeconnections:cn-north-1:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666",
            "https://codeconnections.cn-north-1.amazonaws.com.cn/git-http/111122223333/cn-north-1/",
        ),
    ],
)
def test_proxy_url_for_each_connection_kind(case: str, arn: str, url_prefix: str) -> None:
    url = function.proxy_url(arn, "group/sub/repo")
    assert url == url_prefix + "0a1b2c3d-1111-2222-3333-444455556666/group/sub/repo.git"


def test_update_with_same_seed_returns_same_url_without_a_build(response_url, codebuild) -> None:
    url, answers = response_url
    client, _ = codebuild  # no stubbed responses: any CodeBuild call would fail the test
    clock = Clock(900)
    function.handler(
        event(url, "Update", PhysicalResourceId="kept-id", OldResourceProperties=dict(PROPERTIES)),
        clock,
        codebuild=client,
        sleep=clock.sleep,
    )
    answer = the_answer(answers)
    assert (answer["Status"], answer["PhysicalResourceId"], answer["Data"]) == (
        "SUCCESS",
        "kept-id",
        {"url": EXPECTED_URL},
    )


@pytest.mark.parametrize(
    ("case", "changed"),
    [
        ("new seed", {"SeedCodeKey": "seedcode/modelbuild-fedcba9876543210.zip"}),
        ("new branch", {"Branch": "develop"}),
        ("new repository", {"FullRepositoryName": "my-org/other-repo"}),
        ("new build project", {"CodeBuildProjectName": "sagemaker-other-git-seedcodecheckin"}),
    ],
)
def test_update_never_touches_the_repository_and_keeps_id_and_url(
    case: str, changed: dict[str, str], response_url, codebuild
) -> None:
    """A new release's seed must never be pushed over the data scientist's commits (as AWS's seeding)."""
    url, answers = response_url
    client, _ = codebuild  # no stubbed responses: any CodeBuild call would fail the test
    clock = Clock(900)
    update = event(url, "Update", PhysicalResourceId="kept-id", OldResourceProperties=dict(PROPERTIES))
    update["ResourceProperties"] = {**PROPERTIES, **changed}
    function.handler(update, clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "kept-id"
    assert answer["Data"] == {"url": function.proxy_url(CONNECTION, PROPERTIES["FullRepositoryName"])}
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("case", "properties"),
    [("normal", dict(PROPERTIES)), ("broken properties", {"ServiceToken": "x"}), ("no properties", None)],
)
def test_delete_always_succeeds_and_touches_nothing(case: str, properties, response_url, codebuild) -> None:
    url, answers = response_url
    client, _ = codebuild
    clock = Clock(900)
    function.handler(
        event(url, "Delete", PhysicalResourceId="kept-id", ResourceProperties=properties),
        clock,
        codebuild=client,
        sleep=clock.sleep,
    )
    answer = the_answer(answers)
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", "kept-id")


def test_start_is_retried_while_iam_propagates(response_url, codebuild) -> None:
    url, answers = response_url
    client, stubber = codebuild
    stubber.add_client_error(
        "start_build",
        service_error_code="InvalidInputException",
        service_message="CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::1:role/x",
    )
    stubber.add_client_error(
        "start_build", service_error_code="AccessDeniedException", service_message="denied"
    )
    expect_start(stubber)
    stubber.add_response("batch_get_builds", {"builds": [build("SUCCEEDED")]}, {"ids": [BUILD_ID]})
    clock = Clock(900)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert len(clock.sleeps) == 3  # two refusals, one poll


def test_other_start_errors_fail_at_once_with_the_message(response_url, codebuild) -> None:
    url, answers = response_url
    client, stubber = codebuild
    stubber.add_client_error(
        "start_build",
        service_error_code="ResourceNotFoundException",
        service_message="Project cannot be found",
    )
    clock = Clock(900)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED"
    assert "Project cannot be found" in answer["Reason"]
    assert clock.sleeps == []


def test_failed_check_in_names_the_build_and_links_its_log(response_url, codebuild) -> None:
    url, answers = response_url
    client, stubber = codebuild
    expect_start(stubber)
    phases = [
        {"phaseType": "INSTALL", "phaseStatus": "SUCCEEDED"},
        {
            "phaseType": "BUILD",
            "phaseStatus": "FAILED",
            "contexts": [{"message": "COMMAND_EXECUTION_ERROR: git push"}],
        },
    ]
    stubber.add_response(
        "batch_get_builds", {"builds": [build("FAILED", phases=phases)]}, {"ids": [BUILD_ID]}
    )
    clock = Clock(900)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED"
    assert BUILD_ID in answer["Reason"]
    assert "phase BUILD" in answer["Reason"] and "git push" in answer["Reason"]
    link = (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/"
        "sagemaker-demo-p-abcdef123456-git-seedcodecheckin/build/"
        "sagemaker-demo-p-abcdef123456-git-seedcodecheckin%3A0f1e2d3c-aaaa-bbbb-cccc-1234567890ab/log?region=eu-west-1"
    )
    assert link in answer["Reason"]
    assert answer["Data"] == {"url": EXPECTED_URL}


def test_a_build_still_running_is_reported_before_the_lambda_times_out(response_url, codebuild) -> None:
    url, answers = response_url
    client, stubber = codebuild
    expect_start(stubber)
    budget = 120
    polls = int((budget - function.MARGIN_SECONDS) // function.POLL_SECONDS)
    for _ in range(polls):
        stubber.add_response("batch_get_builds", {"builds": [build("IN_PROGRESS")]}, {"ids": [BUILD_ID]})
    clock = Clock(budget)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED"
    assert (
        "still running" in answer["Reason"]
        and BUILD_ID in answer["Reason"]
        and "/log?region=" in answer["Reason"]
    )
    assert clock.now <= budget - function.MARGIN_SECONDS + function.POLL_SECONDS
    assert clock.now < budget


def test_missing_properties_fail_naming_them(response_url, codebuild) -> None:
    url, answers = response_url
    client, _ = codebuild
    broken = event(url)
    del broken["ResourceProperties"]["Branch"]
    clock = Clock(900)
    function.handler(broken, clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED"
    assert "Branch" in answer["Reason"]


def test_the_inlined_code_behaves_like_the_module(response_url, codebuild) -> None:
    inlined = types.ModuleType("index")
    exec(compile(function_code(), "index.py", "exec"), inlined.__dict__)  # noqa: S102 - our own source
    assert inlined.__doc__ is None and "#" not in function_code().split("\n", 1)[0]
    url, answers = response_url
    client, stubber = codebuild
    expect_start(stubber)
    stubber.add_response("batch_get_builds", {"builds": [build("SUCCEEDED")]}, {"ids": [BUILD_ID]})
    clock = Clock(900)
    inlined.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    assert the_answer(answers)["Data"] == {"url": EXPECTED_URL}


def test_default_client_bounds_each_call_within_the_margin(response_url, codebuild, monkeypatch) -> None:
    url, answers = response_url
    client, stubber = codebuild
    expect_start(stubber)
    stubber.add_response("batch_get_builds", {"builds": [build("SUCCEEDED")]}, {"ids": [BUILD_ID]})
    made: list[tuple[str, Any]] = []

    def fake_client(service: str, config: Any = None) -> Any:
        made.append((service, config))
        return client

    monkeypatch.setattr(function.boto3, "client", fake_client)
    clock = Clock(900)
    function.handler(event(url), clock, sleep=clock.sleep)
    assert the_answer(answers)["Status"] == "SUCCESS"
    ((service, config),) = made
    assert service == "codebuild"
    attempts = config.retries["total_max_attempts"]
    assert attempts * (config.connect_timeout + config.read_timeout) < function.MARGIN_SECONDS
