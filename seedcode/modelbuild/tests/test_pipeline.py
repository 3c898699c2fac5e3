"""The pipeline definition, built offline: parameters, steps and their wiring, the gate, the registration."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from helpers import BUCKET, DATA_FILE, PIPELINE_KWARGS, REGION, parameter_defaults, resolve, steps_by_name

from pipelines.abalone.config import HYPERPARAMETERS, MSE_THRESHOLD, XGBOOST_FRAMEWORK_VERSION

Build = Callable[..., dict[str, Any]]


def test_parameters_and_their_defaults(definition: dict[str, Any]) -> None:
    definition = definition
    digest = hashlib.sha256(DATA_FILE.read_bytes()).hexdigest()[:16]
    assert parameter_defaults(definition) == {
        "ProcessingInstanceType": "ml.m5.xlarge",
        "ProcessingInstanceCount": 1,
        "TrainingInstanceType": "ml.m5.xlarge",
        "ModelApprovalStatus": "PendingManualApproval",
        "InputDataUrl": f"s3://{BUCKET}/{PIPELINE_KWARGS['base_job_prefix']}/data/{digest}/abalone.csv",
    }


def test_the_shipped_data_is_uploaded_under_its_content_hash(definition: dict[str, Any]) -> None:
    url = parameter_defaults(definition)["InputDataUrl"]
    bucket, key = url.removeprefix("s3://").split("/", 1)
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == DATA_FILE.read_bytes()


def test_an_input_data_uri_is_used_as_given_and_nothing_is_uploaded(build_definition: Build) -> None:
    def data_keys() -> list[str]:
        listing = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix="elsewhere/")
        return [item["Key"] for item in listing.get("Contents", [])]

    definition = build_definition(input_data_uri="s3://somewhere/abalone.csv", base_job_prefix="elsewhere")
    assert parameter_defaults(definition)["InputDataUrl"] == "s3://somewhere/abalone.csv"
    assert data_keys() == []
    build_definition(base_job_prefix="elsewhere")
    assert [key.rsplit("/", 1)[1] for key in data_keys()] == ["abalone.csv"]


def test_an_input_data_uri_must_be_s3(build_definition: Build) -> None:
    with pytest.raises(ValueError, match=r"input_data_uri: 'data/abalone.csv' is not an s3:// URI"):
        build_definition(input_data_uri="data/abalone.csv")


def test_a_missing_data_file_names_the_argument_and_the_fix(build_definition: Build) -> None:
    with pytest.raises(FileNotFoundError, match=r"input_data_file.*input_data_uri"):
        build_definition(input_data_file="/nonexistent/abalone.csv")


def test_steps_in_order_with_the_gate_branches(definition: dict[str, Any]) -> None:
    definition = definition
    assert [step["Name"] for step in definition["Steps"]] == [
        "PreprocessAbaloneData",
        "TrainAbaloneModel",
        "EvaluateAbaloneModel",
        "CheckMSEAbaloneEvaluation",
    ]
    condition = definition["Steps"][3]["Arguments"]
    assert [step["Name"] for step in condition["IfSteps"]] == ["RegisterAbaloneModel-RegisterModel"]
    assert [step["Name"] for step in condition["ElseSteps"]] == ["AbaloneMSEFail"]


def test_each_step_reads_the_outputs_of_the_one_before(definition: dict[str, Any]) -> None:
    steps = steps_by_name(definition)
    train_inputs = {
        channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"]["Get"]
        for channel in steps["TrainAbaloneModel"]["Arguments"]["InputDataConfig"]
    }
    prefix = "Steps.PreprocessAbaloneData.ProcessingOutputConfig.Outputs"
    assert train_inputs == {
        "train": f"{prefix}['train'].S3Output.S3Uri",
        "validation": f"{prefix}['validation'].S3Output.S3Uri",
    }
    eval_inputs = {
        item["S3Input"]["LocalPath"]: item["S3Input"]["S3Uri"]
        for item in steps["EvaluateAbaloneModel"]["Arguments"]["ProcessingInputs"]
    }
    assert eval_inputs["/opt/ml/processing/model"] == {
        "Get": "Steps.TrainAbaloneModel.ModelArtifacts.S3ModelArtifacts"
    }
    assert eval_inputs["/opt/ml/processing/test"] == {"Get": f"{prefix}['test'].S3Output.S3Uri"}
    preprocess_inputs = steps["PreprocessAbaloneData"]["Arguments"]["ProcessingInputs"]
    assert preprocess_inputs[0]["S3Input"]["S3Uri"] == {"Get": "Parameters.InputDataUrl"}
    assert preprocess_inputs[0]["S3Input"]["LocalPath"] == "/opt/ml/processing/input"


def test_scripts_are_uploaded_under_content_hash_keys(definition: dict[str, Any]) -> None:
    steps = steps_by_name(definition)
    code_inputs = [
        item["S3Input"]["S3Uri"]
        for name in ("PreprocessAbaloneData", "EvaluateAbaloneModel")
        for item in steps[name]["Arguments"]["ProcessingInputs"]
        if item["InputName"] == "code"
    ]
    assert [uri.rsplit("/", 1)[1] for uri in code_inputs] == ["preprocess.py", "evaluate.py"]
    s3 = boto3.client("s3", region_name=REGION)
    for uri in code_inputs:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def test_training_runs_train_py_in_script_mode_on_the_pinned_container(definition: dict[str, Any]) -> None:
    definition = definition
    arguments = steps_by_name(definition)["TrainAbaloneModel"]["Arguments"]
    assert arguments["AlgorithmSpecification"]["TrainingImage"].endswith(
        f"/sagemaker-xgboost:{XGBOOST_FRAMEWORK_VERSION}"
    )
    hyperparameters = {name: json.loads(value) for name, value in arguments["HyperParameters"].items()}
    assert hyperparameters["sagemaker_program"] == "train.py"
    assert hyperparameters["sagemaker_submit_directory"].endswith("/sourcedir.tar.gz")
    assert hyperparameters["objective"] == "reg:squarederror"
    assert {name: hyperparameters[name] for name in HYPERPARAMETERS} == HYPERPARAMETERS
    assert resolve(definition, arguments["ResourceConfig"]["InstanceType"]) == "ml.m5.xlarge"
    assert arguments["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}


def test_processing_instances_are_parameters(definition: dict[str, Any]) -> None:
    steps = steps_by_name(definition)
    for name in ("PreprocessAbaloneData", "EvaluateAbaloneModel"):
        cluster = steps[name]["Arguments"]["ProcessingResources"]["ClusterConfig"]
        assert cluster["InstanceType"] == {"Get": "Parameters.ProcessingInstanceType"}
    preprocess = steps["PreprocessAbaloneData"]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert preprocess["InstanceCount"] == {"Get": "Parameters.ProcessingInstanceCount"}


def test_evaluation_feeds_the_mse_gate(definition: dict[str, Any]) -> None:
    steps = steps_by_name(definition)
    assert steps["EvaluateAbaloneModel"]["PropertyFiles"] == [
        {
            "PropertyFileName": "AbaloneEvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]
    (condition,) = steps["CheckMSEAbaloneEvaluation"]["Arguments"]["Conditions"]
    assert condition["Type"] == "LessThanOrEqualTo"
    assert condition["RightValue"] == MSE_THRESHOLD == 6.0
    mse = condition["LeftValue"]["Std:JsonGet"]
    assert mse["PropertyFile"] == {"Get": "Steps.EvaluateAbaloneModel.PropertyFiles.AbaloneEvaluationReport"}
    assert mse["Path"] == "regression_metrics.mse.value"
    message = steps["AbaloneMSEFail"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert {"Std:JsonGet": mse} in message


def test_registration_in_the_project_group_pending_approval(definition: dict[str, Any]) -> None:
    definition = definition
    arguments = steps_by_name(definition)["RegisterAbaloneModel-RegisterModel"]["Arguments"]
    assert arguments["ModelPackageGroupName"] == PIPELINE_KWARGS["model_package_group_name"]
    assert resolve(definition, arguments["ModelApprovalStatus"]) == "PendingManualApproval"
    (container,) = arguments["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.TrainAbaloneModel.ModelArtifacts.S3ModelArtifacts"}
    assert container["Image"].endswith(f"/sagemaker-xgboost:{XGBOOST_FRAMEWORK_VERSION}")
    assert arguments["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    statistics = arguments["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]["Values"]
    assert statistics == [
        {"Get": "Steps.EvaluateAbaloneModel.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
        "evaluation.json",
    ]


def test_every_job_step_is_cached(definition: dict[str, Any]) -> None:
    steps = steps_by_name(definition)
    for name in ("PreprocessAbaloneData", "TrainAbaloneModel", "EvaluateAbaloneModel"):
        assert steps[name]["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}


def test_no_timestamp_or_job_name_in_the_definition(build_definition: Build) -> None:
    text = json.dumps(build_definition())
    assert "JobName" not in text
    assert not re.search(r"\d{4}-\d\d-\d\d-\d\d-\d\d", text), "a job-name timestamp in the definition"
    assert build_definition() == json.loads(text)


def test_the_template_names_reach_the_definition(build_definition: Build) -> None:
    definition = build_definition(model_package_group_name="other-group", pipeline_name="sagemaker-other")
    register = steps_by_name(definition)["RegisterAbaloneModel-RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == "other-group"
    assert "/sagemaker-other/" in json.dumps(definition)
