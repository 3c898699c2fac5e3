"""SageMaker pipeline executions through the stand-in: boto3 and the AWS CLI, as a build would call them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_samples import CLUSTER, definition, upload_sample

from standin.testing import wait_for

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole"


def wait(sm, arn: str, timeout: float = 60.0) -> dict:
    def finished() -> dict | None:
        described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        return None if described["PipelineExecutionStatus"] in ("Executing", "Stopping") else described

    return wait_for(finished, timeout, f"pipeline execution {arn} to finish")


@pytest.fixture
def sm(standin):
    upload_sample(standin.client("s3"))
    client = standin.client("sagemaker")
    client.create_pipeline(PipelineName="demo", PipelineDefinition=json.dumps(definition()), RoleArn=ROLE)
    return client


def test_an_execution_runs_in_the_background_and_reports_its_steps(sm):
    arn = sm.start_pipeline_execution(
        PipelineName="demo", PipelineParameters=[{"Name": "MaxDepth", "Value": "4"}]
    )["PipelineExecutionArn"]
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] in (
        "Executing",
        "Succeeded",
    )
    described = wait(sm, arn)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [s["StepName"] for s in steps] == ["Register-RegisterModel", "Check", "Train", "Prep"]
    assert {s["StepStatus"] for s in steps} == {"Succeeded"}
    by_name = {s["StepName"]: s for s in steps}
    assert by_name["Check"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert by_name["Train"]["Metadata"]["TrainingJob"]["Arn"].startswith("arn:aws:sagemaker:us-east-1:")
    job = sm.describe_training_job(
        TrainingJobName=by_name["Train"]["Metadata"]["TrainingJob"]["Arn"].split("/")[-1]
    )
    assert job["TrainingJobStatus"] == "Completed"
    assert job["ModelArtifacts"]["S3ModelArtifacts"].endswith(
        f"/{job['TrainingJobName']}/output/model.tar.gz"
    )
    prep = by_name["Prep"]["Metadata"]["ProcessingJob"]["Arn"].split("/")[-1]
    assert sm.describe_processing_job(ProcessingJobName=prep)["ProcessingJobStatus"] == "Completed"
    package_arn = by_name["Register-RegisterModel"]["Metadata"]["RegisterModel"]["Arn"]
    package = sm.describe_model_package(ModelPackageName=package_arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    summaries = sm.list_pipeline_executions(PipelineName="demo")["PipelineExecutionSummaries"]
    assert [(s["PipelineExecutionArn"], s["PipelineExecutionStatus"]) for s in summaries] == [
        (arn, "Succeeded")
    ]
    # the second run reuses both job steps from the first
    again = sm.start_pipeline_execution(PipelineName="demo")["PipelineExecutionArn"]
    assert wait(sm, again)["PipelineExecutionStatus"] == "Succeeded"
    second = {
        s["StepName"]: s
        for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=again)["PipelineExecutionSteps"]
    }
    assert "CacheHitResult" not in second["Train"]  # MaxDepth went back to its default: new arguments
    third = sm.start_pipeline_execution(PipelineName="demo")["PipelineExecutionArn"]
    wait(sm, third)
    cached = sm.list_pipeline_execution_steps(PipelineExecutionArn=third)["PipelineExecutionSteps"]
    assert {s["StepName"]: s.get("CacheHitResult") for s in cached}["Train"] == {
        "SourcePipelineExecutionArn": again
    }


def test_a_failing_execution_shows_its_reason_to_the_aws_cli(sm, standin):
    arn = sm.start_pipeline_execution(
        PipelineName="demo", PipelineParameters=[{"Name": "FakeMse", "Value": "9.5"}]
    )["PipelineExecutionArn"]
    described = wait(sm, arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "MSE > 6.0 (got 9.5" in described["FailureReason"]
    aws = Path(sys.executable).with_name("aws")
    out = subprocess.run(
        [str(aws), "sagemaker", "list-pipeline-execution-steps", "--pipeline-execution-arn", arn],
        env=standin.env | {"PATH": "/usr/bin:/bin", "HOME": str(standin.state_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    steps = {s["StepName"]: s for s in json.loads(out.stdout)["PipelineExecutionSteps"]}
    assert steps["MseFail"]["StepStatus"] == "Failed"
    assert steps["MseFail"]["FailureReason"].startswith("Execution failed due to MSE > 6.0")


@pytest.mark.parametrize(
    ("case", "kwargs", "message"),
    [
        ("unknown pipeline", {"PipelineName": "nope"}, "Pipeline 'nope' does not exist"),
        (
            "unknown parameter",
            {"PipelineName": "demo", "PipelineParameters": [{"Name": "Typo", "Value": "1"}]},
            "'Typo' is not a parameter",
        ),
    ],
)
def test_bad_starts_are_refused_with_the_reason(sm, case, kwargs, message):
    with pytest.raises(sm.exceptions.ClientError, match=message):
        sm.start_pipeline_execution(**kwargs)


def _sleeping_pipeline(sm, name: str, seconds: float) -> None:
    step = {
        "Name": "Nap",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": CLUSTER},
            "AppSpecification": {
                "ImageUri": "sklearn",
                "ContainerEntrypoint": ["python3", "-c", f"import time; time.sleep({seconds})"],
            },
            "RoleArn": ROLE,
        },
    }
    body = {"Version": "2020-12-01", "Parameters": [], "Steps": [step]}
    sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(body), RoleArn=ROLE)


def test_a_pipeline_with_a_running_execution_cannot_be_deleted(sm):
    _sleeping_pipeline(sm, "napping", 3)
    arn = sm.start_pipeline_execution(PipelineName="napping")["PipelineExecutionArn"]
    with pytest.raises(sm.exceptions.ConflictException, match="running executions"):
        sm.delete_pipeline(PipelineName="napping")
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Stopped"
    sm.delete_pipeline(PipelineName="napping")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_pipeline_execution(PipelineExecutionArn=arn)


def test_an_execution_leaves_its_experiment_trial_and_job_logs(sm, standin):
    _sleeping_pipeline(sm, "napping", 0)
    arn = sm.start_pipeline_execution(PipelineName="napping")["PipelineExecutionArn"]
    wait(sm, arn)
    execution_id = arn.rsplit("/", 1)[-1]
    assert sm.describe_experiment(ExperimentName="napping")["ExperimentName"] == "napping"
    trials = sm.list_trials(ExperimentName="napping")["TrialSummaries"]
    assert [t["TrialName"] for t in trials] == [execution_id]
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    job = step["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
    components = sm.list_trial_components(TrialName=execution_id)["TrialComponentSummaries"]
    assert [c["TrialComponentName"] for c in components] == [f"{job}-aws-processing-job"]
    streams = standin.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix=f"{job}/"
    )["logStreams"]
    assert len(streams) == 1
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_experiment(ExperimentName="no-such-experiment")
