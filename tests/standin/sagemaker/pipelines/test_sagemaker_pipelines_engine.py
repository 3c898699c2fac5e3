"""The pipeline interpreter on a small hand-written definition; moto in-process answers S3 and SageMaker."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from pipeline_samples import BUCKET, REGION, definition, upload_sample

from standin.sagemaker.pipelines.definition import (
    DefinitionError,
    new_execution_id,
    parse_expire_after,
    parse_path,
    resolve_parameters,
)
from standin.sagemaker.pipelines.engine import PipelineRun
from standin.sagemaker.pipelines.records import ExecutionRecord, StepCache


@pytest.fixture
def aws():
    with mock_aws():
        upload_sample(boto3.client("s3", region_name=REGION))
        yield lambda service: boto3.client(service, region_name=REGION)


def run(clients, tmp_path: Path, cache: StepCache, params: dict | None = None, defn: dict | None = None):
    execution_id = new_execution_id()
    record = ExecutionRecord(
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/demo/execution/{execution_id}",
        pipeline_name="demo",
        pipeline_arn=f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/demo",
        execution_id=execution_id,
        parameters=[{"Name": k, "Value": v} for k, v in (params or {}).items()],
    )
    return PipelineRun(defn or definition(), record, clients, tmp_path, cache).run()


def steps(record: ExecutionRecord) -> dict:
    return {s.name: s for s in record.steps}


def test_a_passing_run_trains_and_registers_a_pending_model(aws, tmp_path):
    record = run(aws, tmp_path, StepCache(), {"MaxDepth": "5"})
    assert record.status == "Succeeded", record.failure_reason
    by_name = steps(record)
    assert [s.name for s in record.steps] == ["Prep", "Train", "Check", "Register-RegisterModel"]
    assert by_name["Check"].metadata == {"Condition": {"Outcome": "True"}}
    assert "MseFail" not in by_name
    log = Path(by_name["Prep"].log_path).read_text()
    assert "label run-5" in log and f"s3://{BUCKET}/data/raw.csv" in log

    sm = aws("sagemaker")
    package = sm.list_model_packages(ModelPackageGroupName="proj-p-test")["ModelPackageSummaryList"]
    assert len(package) == 1 and package[0]["ModelApprovalStatus"] == "PendingManualApproval"
    assert by_name["Register-RegisterModel"].metadata["RegisterModel"]["Arn"] == package[0]["ModelPackageArn"]
    url = sm.describe_model_package(ModelPackageName=package[0]["ModelPackageArn"])["InferenceSpecification"][
        "Containers"
    ][0]["ModelDataUrl"]
    job = by_name["Train"].properties["TrainingJobName"]
    assert url == f"s3://{BUCKET}/models/{job}/output/model.tar.gz"
    blob = aws("s3").get_object(Bucket=BUCKET, Key=f"models/{job}/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        model = json.loads(tar.extractfile("model.json").read())
    assert model["rows"] == 3 and model["max_depth"] == 5
    assert model["sm_hps"] == {"max_depth": 5}
    assert model["hps"]["sagemaker_program"] == '"train.py"'


def test_an_mse_over_the_gate_fails_with_the_fail_steps_message(aws, tmp_path):
    record = run(aws, tmp_path, StepCache(), {"FakeMse": "7.25"})
    assert record.status == "Failed"
    by_name = steps(record)
    assert by_name["Check"].metadata == {"Condition": {"Outcome": "False"}}
    assert by_name["MseFail"].status == "Failed"
    assert by_name["MseFail"].failure_reason == "Execution failed due to MSE > 6.0 (got 7.25 )"
    assert by_name["MseFail"].metadata == {"Fail": {"ErrorMessage": by_name["MseFail"].failure_reason}}
    assert "MSE > 6.0" in record.failure_reason
    assert "Register-RegisterModel" not in by_name


def test_a_broken_script_fails_its_step_with_the_scripts_error_and_stops(aws, tmp_path):
    record = run(aws, tmp_path, StepCache(), {"Break": "yes"})
    assert record.status == "Failed"
    assert [s.name for s in record.steps] == ["Prep"]
    reason = record.steps[0].failure_reason
    assert "AlgorithmError" in reason and "exited with code 1" in reason
    assert "the input has no label column" in reason
    assert "Prep" in record.failure_reason


def test_unchanged_steps_are_reused_from_the_cache(aws, tmp_path):
    cache = StepCache()
    first = run(aws, tmp_path, cache)
    second = run(aws, tmp_path, cache)
    assert second.status == "Succeeded"
    assert steps(second)["Prep"].cache_source == first.arn
    assert steps(second)["Train"].cache_source == first.arn
    assert steps(second)["Train"].to_api()["CacheHitResult"] == {"SourcePipelineExecutionArn": first.arn}
    # the cached step's outputs are the first execution's (its path holds the first execution's id)
    channel = steps(second)["Train"].properties["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert channel == f"s3://{BUCKET}/{first.execution_id}/t"
    # a parameter that changes the training arguments misses the cache for that step only
    third = run(aws, tmp_path, cache, {"MaxDepth": "4"})
    assert steps(third)["Train"].cache_source is None
    assert steps(third)["Prep"].cache_source is None  # RUN_LABEL joins MaxDepth into Prep's environment


def test_caching_off_reruns_every_time(aws, tmp_path):
    defn = definition()
    for step in defn["Steps"]:
        step.pop("CacheConfig", None)
    cache = StepCache()
    run(aws, tmp_path, cache, defn=copy.deepcopy(defn))
    again = run(aws, tmp_path, cache, defn=defn)
    assert all(s.cache_source is None for s in again.steps)


@pytest.mark.parametrize(
    ("case", "params", "message"),
    [
        ("unknown name", {"Nope": "1"}, "'Nope' is not a parameter of this pipeline"),
        ("wrong type", {"MaxDepth": "deep"}, "MaxDepth is of type Integer"),
    ],
)
def test_bad_start_parameters_are_refused_naming_the_parameter(case, params, message):
    with pytest.raises(DefinitionError, match=message):
        resolve_parameters(definition(), [{"Name": k, "Value": v} for k, v in params.items()])


def test_parameters_take_defaults_and_overrides_with_their_types():
    values = resolve_parameters(definition(), [{"Name": "Gate", "Value": "5.5"}])
    assert values["Gate"] == 5.5 and values["MaxDepth"] == 3 and values["Break"] == "no"


def test_property_paths_and_durations_parse():
    assert parse_path("Steps.A-b.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri") == [
        "Steps",
        "A-b",
        "ProcessingOutputConfig",
        "Outputs",
        "train",
        "S3Output",
        "S3Uri",
    ]
    assert parse_path("a[0].b") == ["a", 0, "b"]
    assert parse_expire_after("P30D").days == 30
    assert parse_expire_after("30d").days == 30
    assert parse_expire_after("PT2H").total_seconds() == 7200
    with pytest.raises(DefinitionError, match="ExpireAfter"):
        parse_expire_after("soon")


def test_a_definition_of_another_version_is_refused(tmp_path):
    defn = definition()
    defn["Version"] = "2019-01-01"
    with pytest.raises(DefinitionError, match="Version"):
        run(lambda s: None, tmp_path, StepCache(), defn=defn)
