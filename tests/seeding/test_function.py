"""The seed check-in Lambda against a stubbed CodeBuild and a local CloudFormation response URL."""

from __future__ import annotations

import hashlib
import http.server
import io
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
SEED = b"PK seed zip bytes"
BOOTSTRAP = b"PK bootstrap zip bytes"
BOOTSTRAP_VERSION = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"
EXPECTED_URL = (
    "https://codeconnections.eu-west-1.amazonaws.com/git-http/123456789012/eu-west-1/"
    "0a1b2c3d-1111-2222-3333-444455556666/my-org/demo-modelbuild.git"
)
PROPERTIES: dict[str, Any] = {
    "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:sagemaker-p-abcdef123456-checkin",
    "CodeBuildProjectName": "sagemaker-demo-p-abcdef123456-git-seedcodecheckin",
    "SeedCodeBucket": "sagemaker-mlops-assets-123456789012-eu-west-1",
    "SeedCodeKey": "seedcode/modelbuild-0123456789abcdef.zip",
    "SeedCodeSha256": hashlib.sha256(SEED).hexdigest(),
    "BootstrapKey": "seeding/bootstrap-0123456789abcdef.zip",
    "BootstrapSha256": hashlib.sha256(BOOTSTRAP).hexdigest(),
    "RepositoryUrl": EXPECTED_URL,
    "BuildEnvironment": {
        "REPOSITORY_URL": EXPECTED_URL,
        "REPOSITORY_BRANCH": "main",
        "SEED_CODE_S3_URI": "s3://sagemaker-mlops-assets-123456789012-eu-west-1/seedcode/modelbuild-0123456789abcdef.zip",
        "SEED_CODE_ID": "modelbuild-0123456789abcdef.zip",
        "SEED_CODE_SHA256": hashlib.sha256(SEED).hexdigest(),
    },
}


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


class FakeS3:
    """The asset bucket: key -> (bytes, version id or None for an unversioned bucket)."""

    def __init__(self, clock: Clock | None = None, call_seconds: float = 0.0) -> None:
        self.objects: dict[str, tuple[bytes, str | None]] = {
            PROPERTIES["BootstrapKey"]: (BOOTSTRAP, BOOTSTRAP_VERSION),
            PROPERTIES["SeedCodeKey"]: (SEED, "seed-version-1"),
        }
        self.clock, self.call_seconds = clock, call_seconds
        self.reads: list[str] = []

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # boto3's names
        if self.clock:
            self.clock.now += self.call_seconds
        self.reads.append(Key)
        data, version = self.objects[Key]
        return {"Body": io.BytesIO(data), **({"VersionId": version} if version else {})}


class Capture(http.server.BaseHTTPRequestHandler):
    answers: list[dict[str, Any]]

    def do_PUT(self) -> None:  # http.server's naming
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
    s3 = FakeS3()
    clients = {"codebuild": client, "s3": s3}
    monkeypatch.setattr(function.boto3, "client", lambda service, config=None: clients[service])
    with Stubber(client) as stubber:
        stubber.s3 = s3  # type: ignore[attr-defined]
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


def expect_start(stubber: Stubber, props: dict[str, Any] = PROPERTIES) -> None:
    """start_build with the resource's BuildEnvironment, on the bootstrap object and version verified."""
    environment = props["BuildEnvironment"]
    expected: dict[str, Any] = {
        "projectName": props["CodeBuildProjectName"],
        "environmentVariablesOverride": [
            {"name": name, "value": environment[name], "type": "PLAINTEXT"} for name in sorted(environment)
        ],
        "sourceLocationOverride": f"{props['SeedCodeBucket']}/{props['BootstrapKey']}",
        "sourceVersion": BOOTSTRAP_VERSION,
    }
    stubber.add_response("start_build", {"build": build("IN_PROGRESS")}, expected)


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
    assert clock.sleeps == [function.POLL_FIRST_SECONDS, 2 * function.POLL_FIRST_SECONDS]


def test_polls_start_short_and_back_off_to_the_longest_wait() -> None:
    waits = function.poll_waits()
    first = [next(waits) for _ in range(12)]
    assert first[0] == function.POLL_FIRST_SECONDS < 1
    assert first == sorted(first) and first[-1] == function.POLL_SECONDS
    # a one-minute build on CodeBuild is polled at most four times more than with a flat POLL_SECONDS
    elapsed, polls = 0.0, 0
    while elapsed < 60:
        elapsed += first[polls]
        polls += 1
    assert polls <= 60 // function.POLL_SECONDS + 4


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
        (
            "new bootstrap",
            {"BootstrapKey": "seeding/bootstrap-fedcba9876543210.zip", "BootstrapSha256": "0" * 64},
        ),
        ("new build environment", {"BuildEnvironment": {"REPOSITORY_BRANCH": "develop", "NEW_SETTING": "1"}}),
        (
            "new repository",
            {"RepositoryUrl": "https://codeconnections.eu-west-1.amazonaws.com/x/o/other.git"},
        ),
        ("new build project", {"CodeBuildProjectName": "sagemaker-other-git-seedcodecheckin"}),
    ],
)
def test_update_never_touches_the_repository_and_keeps_id_and_url(
    case: str, changed: dict[str, str], response_url, codebuild
) -> None:
    """A new release's seed must never be pushed over the data scientist's commits (as AWS's seeding)."""
    url, answers = response_url
    client, stubber = codebuild  # no stubbed responses: any CodeBuild call would fail the test
    clock = Clock(900)
    update = event(url, "Update", PhysicalResourceId="kept-id", OldResourceProperties=dict(PROPERTIES))
    update["ResourceProperties"] = {**PROPERTIES, **changed}
    function.handler(update, clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "kept-id"
    assert answer["Data"] == {"url": EXPECTED_URL}
    assert stubber.s3.reads == []
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


def test_missing_properties_fail_naming_them(response_url, codebuild) -> None:
    url, answers = response_url
    client, _ = codebuild
    broken = event(url)
    del broken["ResourceProperties"]["BuildEnvironment"]
    clock = Clock(900)
    function.handler(broken, clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED"
    assert "BuildEnvironment" in answer["Reason"]


def test_the_inlined_code_behaves_like_the_module(response_url, codebuild) -> None:
    inlined = types.ModuleType("index")
    exec(compile(function_code(), "index.py", "exec"), inlined.__dict__)  # our own source
    assert inlined.__doc__ is None and "#" not in function_code().split("\n", 1)[0]
    url, answers = response_url
    client, stubber = codebuild
    expect_start(stubber)
    stubber.add_response("batch_get_builds", {"builds": [build("SUCCEEDED")]}, {"ids": [BUILD_ID]})
    clock = Clock(900)
    inlined.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    assert the_answer(answers)["Data"] == {"url": EXPECTED_URL}


class FakeCodeBuild:
    """CodeBuild whose build never ends; each call costs call_seconds of the fake clock."""

    def __init__(self, clock: Clock, call_seconds: float = 0.0) -> None:
        self.clock, self.call_seconds = clock, call_seconds
        self.calls: list[str] = []

    def _call(self, name: str) -> dict[str, Any]:
        self.clock.now += self.call_seconds
        self.calls.append(name)
        return build("IN_PROGRESS")

    def start_build(self, **kwargs: Any) -> dict[str, Any]:
        return {"build": self._call("start_build")}

    def batch_get_builds(self, ids: list[str]) -> dict[str, Any]:
        return {"builds": [self._call("batch_get_builds")]}


def test_a_build_still_running_is_reported_before_the_lambda_times_out(response_url) -> None:
    url, answers = response_url
    budget = 400
    clock = Clock(budget)
    codebuild = FakeCodeBuild(clock)
    function.handler(event(url), clock, codebuild=codebuild, s3=FakeS3(), sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED"
    assert (
        "still running" in answer["Reason"]
        and BUILD_ID in answer["Reason"]
        and "/log?region=" in answer["Reason"]
    )
    assert codebuild.calls.count("batch_get_builds") >= 1
    assert budget - clock.now >= function.MARGIN_SECONDS


def worst_case(config: Any) -> float:
    """The longest one botocore call may take under config: every attempt connects and reads to its timeout,
    and standard mode waits up to 1 s before a retry, 5 s more when the service asks (x-amz-retry-after)."""
    attempts = config.retries["total_max_attempts"]
    return attempts * (config.connect_timeout + config.read_timeout) + (attempts - 1) * (1 + 5)


@pytest.mark.parametrize("budget", [900, 300, 200])
def test_with_every_call_at_its_worst_the_answer_completes_before_the_timeout(
    budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every AWS call takes its configured worst case, every PUT of the answer times out: the last attempt
    still ends before the Lambda's timeout."""
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    clock = Clock(budget)
    made: dict[str, Any] = {}

    def client(service: str, config: Any = None) -> Any:
        assert config is not None, f"the {service} client has no bounded config"
        fake = FakeS3 if service == "s3" else FakeCodeBuild
        made[service] = fake(clock, worst_case(config))  # type: ignore[operator]
        return made[service]

    puts: list[tuple[float, float]] = []

    def urlopen(request: Any, timeout: float | None = None) -> Any:
        assert timeout is not None and timeout > 0, "each PUT of the answer needs a timeout"
        clock.now += timeout
        puts.append((clock.now, timeout))
        raise TimeoutError("timed out")

    monkeypatch.setattr(function.boto3, "client", client)
    monkeypatch.setattr(function.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(function.time, "sleep", clock.sleep)
    function.handler(
        event("https://cloudformation-custom-resource-response.example/x"), clock, sleep=clock.sleep
    )
    assert puts, "the function never tried to answer"
    if budget == 900:  # the Lambda's own timeout: room to check, start and poll before giving up
        assert made["codebuild"].calls[:2] == ["start_build", "batch_get_builds"]
    assert clock.now < budget, f"the last answer attempt ended {clock.now - budget:.0f} s after the timeout"


@pytest.mark.parametrize(
    ("case", "key", "swapped"),
    [
        ("bootstrap swapped", PROPERTIES["BootstrapKey"], b"PK a bootstrap someone else uploaded"),
        ("seed swapped", PROPERTIES["SeedCodeKey"], b"PK a seed with a stray .env"),
    ],
)
def test_an_asset_with_another_hash_is_refused_before_any_build(
    case: str, key: str, swapped: bytes, response_url, codebuild
) -> None:
    url, answers = response_url
    client, stubber = codebuild  # no start_build stubbed: starting a build would fail the test
    stubber.s3.objects[key] = (swapped, "v-swapped")
    clock = Clock(900)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED"
    expected = (
        PROPERTIES["BootstrapSha256"] if key == PROPERTIES["BootstrapKey"] else PROPERTIES["SeedCodeSha256"]
    )
    for part in (key, expected, hashlib.sha256(swapped).hexdigest(), "sm-mlops register"):
        assert part in answer["Reason"], (part, answer["Reason"])


def test_the_build_runs_the_bootstrap_version_that_was_checked(response_url, codebuild) -> None:
    url, answers = response_url
    client, stubber = codebuild
    expect_start(stubber)  # sourceLocationOverride and sourceVersion: the object and version just verified
    stubber.add_response("batch_get_builds", {"builds": [build("SUCCEEDED")]}, {"ids": [BUILD_ID]})
    clock = Clock(900)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    assert the_answer(answers)["Status"] == "SUCCESS"
    assert stubber.s3.reads == [PROPERTIES["BootstrapKey"], PROPERTIES["SeedCodeKey"]]


def test_an_unversioned_bucket_is_refused_before_any_build(response_url, codebuild) -> None:
    """Without versions the checked bootstrap could be swapped before the build downloads it."""
    url, answers = response_url
    client, stubber = codebuild
    stubber.s3.objects = {k: (data, None) for k, (data, _) in stubber.s3.objects.items()}
    clock = Clock(900)
    function.handler(event(url), clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED" and "keeps no object versions" in answer["Reason"]
    assert "sm-mlops register" in answer["Reason"]
    stubber.assert_no_pending_responses()  # no StartBuild was made


def test_a_build_environment_that_is_not_a_map_fails_naming_it(response_url, codebuild) -> None:
    url, answers = response_url
    client, stubber = codebuild  # no start_build stubbed: starting a build would fail the test
    broken = event(url)
    broken["ResourceProperties"]["BuildEnvironment"] = "REPOSITORY_BRANCH=main"
    clock = Clock(900)
    function.handler(broken, clock, codebuild=client, sleep=clock.sleep)
    answer = the_answer(answers)
    assert answer["Status"] == "FAILED" and "BuildEnvironment must be a map" in answer["Reason"]
    assert stubber.s3.reads == []
