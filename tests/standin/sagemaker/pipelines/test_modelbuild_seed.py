"""The model build seed's real pipeline on the stand-in: `run-pipeline` as the build runs it, the real
preprocess/train/evaluate scripts, a registered model, an endpoint answering with real predictions, and the
failures a data scientist must be able to read (an MSE over the gate, a broken script).

Slow (~60-90 s on 2 cores): one SDK definition build and three executions of real scripts."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from standin.runtime import install as install_runtime
from standin.testing import wait_for

ROOT = Path(__file__).resolve().parents[4]
SEED = ROOT / "seedcode" / "modelbuild"
SAMPLE = ROOT / "seedcode" / "modeldeploy" / "test" / "abalone-sample.csv"
BUCKET = "sagemaker-project-p-seedtest"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole"
PIPELINE = "sagemaker-demo-p-seedtest"
GROUP = "demo-p-seedtest"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SEED / "pipelines" / "run_pipeline.py").is_file(), reason="the model build seed is not there yet"
    ),
]


def run_pipeline(standin, tmp_path: Path) -> subprocess.CompletedProcess:
    kwargs = {
        "region": standin.region,
        "role": ROLE,
        "default_bucket": BUCKET,
        "pipeline_name": PIPELINE,
        "model_package_group_name": GROUP,
        "base_job_prefix": GROUP,
        "sagemaker_project_name": "demo",
    }
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": str(SEED),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        **standin.env,
    }
    return subprocess.run(
        [sys.executable, "-m", "pipelines.run_pipeline", "--module-name", "pipelines.abalone.pipeline"]
        + ["--role-arn", ROLE, "--kwargs", json.dumps(kwargs), "--timeout-minutes", "10"],
        cwd=SEED,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def wait(sm, arn: str, timeout: float = 300) -> dict:
    def finished() -> dict | None:
        described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        return None if described["PipelineExecutionStatus"] in ("Executing", "Stopping") else described

    return wait_for(finished, timeout, f"pipeline execution {arn} to finish", interval=0.2)


def steps(sm, arn: str) -> dict[str, dict]:
    listed = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: s for s in listed}


def test_the_seed_pipeline_registers_a_model_that_an_endpoint_serves_and_fails_readably(standin, tmp_path):
    install_runtime(standin)
    s3, sm = standin.client("s3"), standin.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)

    built = run_pipeline(standin, tmp_path)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    assert "succeeded" in built.stdout
    packages = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert [p["ModelApprovalStatus"] for p in packages] == ["PendingManualApproval"]
    first = sm.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"][0]
    first_steps = steps(sm, first["PipelineExecutionArn"])
    assert first_steps["CheckMSEAbaloneEvaluation"]["Metadata"] == {"Condition": {"Outcome": "True"}}

    # an endpoint deployed from the package predicts ring counts close to the labels
    sm.create_model(
        ModelName="m",
        PrimaryContainer={"ModelPackageName": packages[0]["ModelPackageArn"]},
        ExecutionRoleArn=ROLE,
    )
    sm.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName="demo-staging", EndpointConfigName="c")
    rows = [line.split(",") for line in SAMPLE.read_text().splitlines() if line.strip()]
    body = "\n".join(",".join(r[1:]) for r in rows)
    answer = standin.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="demo-staging", ContentType="text/csv", Body=body
    )
    predictions = [float(v) for v in answer["Body"].read().decode().split()]
    labels = [float(r[0]) for r in rows]
    assert len(predictions) == len(rows)
    mse = sum((p - y) ** 2 for p, y in zip(predictions, labels, strict=True)) / len(rows)
    assert mse < 10.0, (mse, predictions)  # predicting the mean gives ~10.3
    assert len({round(p, 3) for p in predictions}) > 1

    # shuffled labels: the model learns nothing, its MSE fails the gate with the Fail step's message
    raw = (SEED / "data" / "abalone.csv").read_text()
    table = list(csv.reader(io.StringIO(raw)))
    rings = [r[-1] for r in table]
    random.Random(7).shuffle(rings)
    shuffled = "\n".join(",".join([*r[:-1], ring]) for r, ring in zip(table, rings, strict=True)) + "\n"
    s3.put_object(Bucket=BUCKET, Key="bad/shuffled/abalone.csv", Body=shuffled.encode())
    arn = sm.start_pipeline_execution(
        PipelineName=PIPELINE,
        PipelineParameters=[{"Name": "InputDataUrl", "Value": f"s3://{BUCKET}/bad/shuffled/abalone.csv"}],
    )["PipelineExecutionArn"]
    failed = wait(sm, arn)
    assert failed["PipelineExecutionStatus"] == "Failed"
    assert "AbaloneMSEFail" in failed["FailureReason"] and "MSE" in failed["FailureReason"]
    assert steps(sm, arn)["AbaloneMSEFail"]["StepStatus"] == "Failed"
    assert len(sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]) == 1

    # a broken preprocessing script: the step fails with the script's own error in the reason
    definition = json.loads(sm.describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"])
    code = next(
        i for i in definition["Steps"][0]["Arguments"]["ProcessingInputs"] if i["InputName"] == "code"
    )
    bucket, _, key = code["S3Input"]["S3Uri"][5:].partition("/")
    s3.put_object(Bucket=bucket, Key=key, Body=b"raise SystemExit('preprocess: column sex is missing')\n")
    s3.put_object(Bucket=BUCKET, Key="bad/copy/abalone.csv", Body=raw.encode())
    arn = sm.start_pipeline_execution(
        PipelineName=PIPELINE,
        PipelineParameters=[{"Name": "InputDataUrl", "Value": f"s3://{BUCKET}/bad/copy/abalone.csv"}],
    )["PipelineExecutionArn"]
    broken = wait(sm, arn)
    assert broken["PipelineExecutionStatus"] == "Failed"
    step = steps(sm, arn)["PreprocessAbaloneData"]
    assert step["StepStatus"] == "Failed"
    assert "preprocess: column sex is missing" in step["FailureReason"]
    job = sm.describe_processing_job(
        ProcessingJobName=step["Metadata"]["ProcessingJob"]["Arn"].split("/")[-1]
    )
    assert job["ProcessingJobStatus"] == "Failed" and "column sex is missing" in job["FailureReason"]
    assert "PreprocessAbaloneData" in broken["FailureReason"]
