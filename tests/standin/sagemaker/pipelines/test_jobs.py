"""SageMaker jobs a pipeline runs see what a job container would: never the calling process's tokens."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from standin.sagemaker.pipelines.jobs import JobRunner
from standin.sagemaker.pipelines.records import ExecutionRecord, StepRecord

REGION = "us-east-1"
BUCKET = "sagemaker-jobs-env"
DUMP_ENV = """
import json, os, pathlib
pathlib.Path("/opt/ml/processing/output/env.json").write_text(json.dumps(dict(os.environ)))
"""


@pytest.fixture
def clients():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="code/dump_env.py", Body=DUMP_ENV.encode())
        yield lambda service: boto3.client(service, region_name=REGION)


def test_a_processing_job_sees_no_token_of_the_parent_but_what_a_job_needs(
    clients, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_parent_secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "parent-session-token")
    monkeypatch.setenv("SOME_PASSWORD", "hunter2")
    monkeypatch.setenv("LANG", "C.UTF-8")
    record = ExecutionRecord(
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/demo/execution/abc123",
        pipeline_name="demo",
        pipeline_arn=f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/demo",
        execution_id="abc123",
        parameters=[],
    )
    standin_env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "testing"}
    runner = JobRunner(record, clients, tmp_path, env=standin_env)
    args = {
        "AppSpecification": {"ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/dump_env.py"]},
        "ProcessingInputs": [
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/code/dump_env.py",
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "env",
                    "S3Output": {"S3Uri": f"s3://{BUCKET}/out", "LocalPath": "/opt/ml/processing/output"},
                }
            ]
        },
        "Environment": {"JOB_SETTING": "from-the-job"},
    }
    result = StepRecord(name="Dump", type="Processing")
    runner.processing({"Name": "Dump", "Type": "Processing"}, args, result)
    body = clients("s3").get_object(Bucket=BUCKET, Key="out/env.json")["Body"].read()
    seen = json.loads(body)
    for secret in ("GITHUB_TOKEN", "AWS_SESSION_TOKEN", "SOME_PASSWORD"):
        assert secret not in seen, f"{secret} leaked into the job"
    assert seen["JOB_SETTING"] == "from-the-job"
    assert seen["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert seen["AWS_ACCESS_KEY_ID"] == "testing"
    assert seen["PATH"] and seen["LANG"] == "C.UTF-8"
    assert seen["PYTHONUNBUFFERED"] == "1"
    assert Path(seen["HOME"]).is_relative_to(tmp_path)
