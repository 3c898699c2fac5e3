"""invoke_endpoint's engine: endpoint → config → model → package → model.tar.gz → XGBoost predictions."""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

import boto3
import numpy as np
import pytest
import xgboost
from moto import mock_aws

from standin.sagemaker.endpoints import EndpointRuntime, InvokeError

REGION = "us-east-1"
BUCKET = "sagemaker-project-p-ep"
ROLE = "arn:aws:iam::123456789012:role/service-role/exec"


def _model_tarball(tmp_path, slope: float) -> tuple[bytes, xgboost.Booster]:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(200, 3))
    y = slope * x[:, 0] + 1.0
    booster = xgboost.train({"objective": "reg:squarederror", "seed": 0}, xgboost.DMatrix(x, label=y), 30)
    path = tmp_path / "xgboost-model.ubj"  # XGBoost's own binary format, named as the container names it
    booster.save_model(str(path))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(str(path), arcname="xgboost-model")
    return buf.getvalue(), booster


SMALL_MODEL = _model_tarball(Path(tempfile.mkdtemp()), 1.0)[0]


@pytest.fixture
def aws():
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield lambda service: boto3.client(service, region_name=REGION)


def deploy(clients, key: str, body: bytes, name: str = "proj-staging") -> None:
    s3, sm = clients("s3"), clients("sagemaker")
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    sm.create_model_package_group(ModelPackageGroupName="proj-p-ep")
    package = sm.create_model_package(
        ModelPackageGroupName="proj-p-ep",
        InferenceSpecification={
            "Containers": [{"Image": "xgboost:1.7-1", "ModelDataUrl": f"s3://{BUCKET}/{key}"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]
    sm.create_model(
        ModelName=f"{name}-model", PrimaryContainer={"ModelPackageName": package}, ExecutionRoleArn=ROLE
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def test_predictions_match_the_model_and_the_model_is_loaded_once(aws, tmp_path):
    body, booster = _model_tarball(tmp_path, 4.0)
    deploy(aws, "models/job-1/output/model.tar.gz", body)
    runtime = EndpointRuntime(aws, tmp_path / "cache")
    rows = [[0.1, 0.5, 0.5], [0.9, 0.2, 0.3]]
    payload, content_type, variant = runtime.invoke("proj-staging", b"0.1,0.5,0.5\n0.9,0.2,0.3\n", "text/csv")
    got = [float(line) for line in payload.decode().splitlines()]
    expected = booster.predict(xgboost.DMatrix(np.asarray(rows)))
    assert content_type == "text/csv" and variant == "AllTraffic"
    assert got == pytest.approx([float(v) for v in expected])
    assert got[1] > got[0] + 2  # the slope is learned: real predictions, not a constant
    runtime.invoke("proj-staging", b"0.5,0.5,0.5", "text/csv")
    assert runtime.loads == 1


def test_a_replaced_artifact_is_reloaded(aws, tmp_path):
    key = "models/job-1/output/model.tar.gz"
    body, _ = _model_tarball(tmp_path, 4.0)
    deploy(aws, key, body)
    runtime = EndpointRuntime(aws, tmp_path / "cache")
    before = float(runtime.invoke("proj-staging", b"0.9,0,0", "text/csv")[0])
    other, _ = _model_tarball(tmp_path, -4.0)
    aws("s3").put_object(Bucket=BUCKET, Key=key, Body=other)
    after = float(runtime.invoke("proj-staging", b"0.9,0,0", "text/csv")[0])
    assert runtime.loads == 2 and after < before


@pytest.mark.parametrize(
    ("case", "endpoint", "body", "content_type", "code", "message"),
    [
        ("unknown endpoint", "nope", b"1,2,3", "text/csv", "ValidationError", "Endpoint nope of account"),
        ("json body", "proj-staging", b"{}", "application/json", "ModelError", "not supported"),
        ("label left in", "proj-staging", b"1,2,3,4", "text/csv", "ModelError", "expects 3 features"),
        ("not numbers", "proj-staging", b"1,a,3", "text/csv", "ModelError", "Row 1"),
        ("empty", "proj-staging", b"\n", "text/csv", "ModelError", "no rows"),
    ],
)
def test_bad_requests_get_aws_style_errors(aws, tmp_path, case, endpoint, body, content_type, code, message):
    deploy(aws, "m/model.tar.gz", SMALL_MODEL)
    with pytest.raises(InvokeError, match=message) as info:
        EndpointRuntime(aws, tmp_path / "cache").invoke(endpoint, body, content_type)
    assert info.value.code == code
