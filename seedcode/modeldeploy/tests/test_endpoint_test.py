"""test/test.py against stubbed SageMaker clients (botocore Stubber): nothing is sent anywhere."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from loader import REPO, load

endpoint_test = load("test/test.py", "endpoint_test")
ROWS = REPO / "test" / "abalone-sample.csv"
ENDPOINT = "abalone-staging"


def sample_rows() -> list[str]:
    return [line for line in ROWS.read_text().splitlines() if line.strip()]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "staging-config-export.json"
    parameters = {"SageMakerProjectName": "abalone", "StageName": "staging", "ModelPackageName": "arn"}
    path.write_text(json.dumps({"Parameters": parameters, "Tags": {}}))
    return path


@pytest.fixture
def clients() -> Iterator[Clients]:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(sm) as sm_stub, Stubber(runtime) as runtime_stub:
        yield sm, sm_stub, runtime, runtime_stub
        sm_stub.assert_no_pending_responses()
        runtime_stub.assert_no_pending_responses()


def describe(status: str, reason: str | None = None) -> dict[str, Any]:
    response = {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}",
        "EndpointConfigName": "config",
        "EndpointStatus": status,
        "CreationTime": "2025-01-01T00:00:00Z",
        "LastModifiedTime": "2025-01-01T00:00:00Z",
    }
    if reason:
        response["FailureReason"] = reason
    return response


def answer(text: str) -> dict[str, Any]:
    data = text.encode()
    return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentType": "text/csv"}


Clients = tuple[Any, Stubber, Any, Stubber]


def run(config: Path, tmp_path: Path, clients: Clients) -> tuple[int, dict[str, Any]]:
    sm, _, runtime, _ = clients
    results = tmp_path / "test-results.json"
    argv = ["--import-build-config", str(config), "--rows", str(ROWS), "--export-test-results", str(results)]
    code = endpoint_test.main(argv, sm_client=sm, runtime_client=runtime)
    return code, json.loads(results.read_text())


def expect_invoke(stub: Stubber, text: str) -> None:
    expected_body = "\n".join(row.partition(",")[2] for row in sample_rows()).encode()
    params = {"EndpointName": ENDPOINT, "ContentType": "text/csv", "Accept": "text/csv"}
    params["Body"] = expected_body
    stub.add_response("invoke_endpoint", answer(text), params)


def test_sample_rows_are_abalone_rows_in_the_models_layout() -> None:
    rows = [[float(v) for v in line.split(",")] for line in sample_rows()]
    assert len(rows) >= 5
    for row in rows:
        label, features = row[0], row[1:]
        assert 1 <= label <= 29 and label == int(label)
        assert len(features) == 10  # 7 scaled measurements, then sex one-hot (F, I, M)
        assert sorted(features[7:]) == [0.0, 0.0, 1.0]


def test_plausible_predictions_pass_and_are_recorded(config: Path, tmp_path: Path, clients: Any) -> None:
    _, sm_stub, _, runtime_stub = clients
    sm_stub.add_response("describe_endpoint", describe("InService"), {"EndpointName": ENDPOINT})
    predictions = [8.2, 9.1, 10.7, 11.5, 8.9, 10.2, 11.9, 12.4]
    expect_invoke(runtime_stub, "\n".join(str(p) for p in predictions) + "\n")
    code, results = run(config, tmp_path, clients)
    assert code == 0
    assert results["passed"] is True
    assert results["endpoint"] == ENDPOINT
    assert results["predictions"] == predictions
    labels = [float(row.split(",")[0]) for row in sample_rows()]
    expected_mse = sum((p - y) ** 2 for p, y in zip(predictions, labels, strict=True)) / len(labels)
    assert results["mse"] == pytest.approx(expected_mse, abs=1e-3)


def test_comma_separated_answers_are_read_too(config: Path, tmp_path: Path, clients: Any) -> None:
    _, sm_stub, _, runtime_stub = clients
    sm_stub.add_response("describe_endpoint", describe("InService"), {"EndpointName": ENDPOINT})
    expect_invoke(runtime_stub, ",".join(["9.5"] * len(sample_rows())))
    assert run(config, tmp_path, clients)[0] == 0


@pytest.mark.parametrize(
    ("case", "body", "message"),
    [
        ("too few", "9.0\n10.0\n", "got 2 predictions"),
        ("out of range", "\n".join(["9.0"] * 7 + ["55.0"]), "outside the plausible"),
        ("negative", "\n".join(["-3.0"] + ["9.0"] * 7), "outside the plausible"),
        ("not numbers", '{"error": "model not loaded"}', "not a list of numbers"),
        ("empty", "", "got 0 predictions"),
    ],
)
def test_bad_answers_fail(
    config: Path, tmp_path: Path, clients: Any, case: str, body: str, message: str
) -> None:
    _, sm_stub, _, runtime_stub = clients
    sm_stub.add_response("describe_endpoint", describe("InService"), {"EndpointName": ENDPOINT})
    expect_invoke(runtime_stub, body)
    code, results = run(config, tmp_path, clients)
    assert code == 1
    assert results["passed"] is False
    assert message in results["error"]


def test_an_endpoint_not_in_service_fails_before_invoking(config: Path, tmp_path: Path, clients: Any) -> None:
    _, sm_stub, _, _ = clients
    sm_stub.add_response(
        "describe_endpoint", describe("Failed", "image not found"), {"EndpointName": ENDPOINT}
    )
    code, results = run(config, tmp_path, clients)
    assert code == 1
    assert "is Failed, not InService" in results["error"]
    assert "image not found" in results["error"]


def test_a_model_error_fails_with_the_reason(config: Path, tmp_path: Path, clients: Any) -> None:
    _, sm_stub, _, runtime_stub = clients
    sm_stub.add_response("describe_endpoint", describe("InService"), {"EndpointName": ENDPOINT})
    runtime_stub.add_client_error("invoke_endpoint", "ModelError", "feature_names mismatch", 424)
    code, results = run(config, tmp_path, clients)
    assert code == 1
    assert "ModelError" in results["error"] and "feature_names mismatch" in results["error"]


def test_missing_build_artifact_is_explained(tmp_path: Path, clients: Any) -> None:
    code, results = run(tmp_path / "absent.json", tmp_path, clients)
    assert code == 1
    assert "CODEBUILD_SRC_DIR_BuildArtifact" in results["error"]


def test_config_without_stage_is_explained(tmp_path: Path, clients: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Parameters": {"SageMakerProjectName": "abalone"}}')
    code, results = run(bad, tmp_path, clients)
    assert code == 1
    assert "StageName" in results["error"]
