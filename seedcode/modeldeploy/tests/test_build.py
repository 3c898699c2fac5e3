"""build.py against moto's SageMaker model registry."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pytest
from loader import load_template

import build

REPO = Path(__file__).resolve().parent.parent

GROUP = "abalone-p-abc123def456"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def register(sm: Any, status: str) -> str:
    """Register one model package version in GROUP with an approval status; returns its ARN."""
    arn = sm.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://bucket/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    time.sleep(0.002)  # distinct CreationTime for each version
    return arn


@pytest.fixture
def group(sagemaker: Any) -> Any:
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    return sagemaker


def run_build(tmp_path: Path, sm: Any, *extra: str) -> int:
    argv = [
        "--model-execution-role",
        ROLE,
        "--model-package-group-name",
        GROUP,
        "--sagemaker-project-name",
        "abalone",
        "--sagemaker-project-id",
        "p-abc123def456",
        "--s3-bucket",
        "sagemaker-project-p-abc123def456",
        "--import-staging-config",
        str(REPO / "staging-config.json"),
        "--import-prod-config",
        str(REPO / "prod-config.json"),
        "--export-staging-config",
        str(tmp_path / "staging-config-export.json"),
        "--export-prod-config",
        str(tmp_path / "prod-config-export.json"),
        *extra,
    ]
    return build.main(argv, sm_client=sm)


def exported(tmp_path: Path, stage: str) -> dict[str, Any]:
    return json.loads((tmp_path / f"{stage}-config-export.json").read_text())


def test_none_approved_is_a_clear_error(group: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    register(group, "PendingManualApproval")
    register(group, "Rejected")
    assert run_build(tmp_path, group) == 1
    message = caplog.text
    assert GROUP in message
    assert "1 PendingManualApproval, 1 Rejected" in message
    assert "update-model-package" in message and "Approved" in message
    assert not (tmp_path / "staging-config-export.json").exists()


def test_empty_group_says_so(group: Any) -> None:
    with pytest.raises(build.BuildError, match="no packages"):
        build.find_newest_approved(group, GROUP)


def test_newest_approved_wins_and_newer_pending_or_rejected_are_ignored(group: Any) -> None:
    register(group, "Approved")
    newest_approved = register(group, "Approved")
    register(group, "Rejected")
    register(group, "PendingManualApproval")
    assert build.find_newest_approved(group, GROUP)["ModelPackageArn"] == newest_approved


def test_the_search_walks_every_page(group: Any) -> None:
    approved = register(group, "Approved")
    for _ in range(5):
        register(group, "PendingManualApproval")
    calls: list[dict[str, Any]] = []
    original = group.list_model_packages

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(**kwargs)

    group.list_model_packages = counting  # get_paginator binds the client's method when called
    assert build.find_newest_approved(group, GROUP, page_size=2)["ModelPackageArn"] == approved
    assert len(calls) == 3  # 2 + 2 + 2 packages, newest first; the approved one is on the third page
    assert [c.get("NextToken") is None for c in calls] == [True, False, False]
    orders = {(c["SortBy"], c["SortOrder"], c["MaxResults"]) for c in calls}
    assert orders == {("CreationTime", "Descending", 2)}


def test_exports_carry_parameters_and_tags(group: Any, tmp_path: Path) -> None:
    arn = register(group, "Approved")
    assert run_build(tmp_path, group) == 0
    staging = exported(tmp_path, "staging")
    assert staging["Parameters"] == {
        "DataCaptureUploadPath": "s3://sagemaker-project-p-abc123def456/datacapture-staging",
        "EnableDataCapture": "true",
        "EndpointInstanceCount": "1",
        "EndpointInstanceType": "ml.m5.large",
        "ModelExecutionRoleArn": ROLE,
        "ModelPackageName": arn,
        "SageMakerProjectName": "abalone",
        "SamplingPercentage": "100",
        "StageName": "staging",
    }
    assert staging["Tags"] == {
        "sagemaker:deployment-stage": "staging",
        "sagemaker:project-id": "p-abc123def456",
        "sagemaker:project-name": "abalone",
    }
    prod = exported(tmp_path, "prod")
    assert prod["Parameters"]["StageName"] == "prod"
    assert prod["Parameters"]["SamplingPercentage"] == "80"
    assert prod["Tags"]["sagemaker:deployment-stage"] == "prod"
    assert prod["Parameters"]["DataCaptureUploadPath"].endswith("/datacapture-prod")


def test_every_exported_parameter_exists_in_the_template(group: Any, tmp_path: Path) -> None:
    register(group, "Approved")
    assert run_build(tmp_path, group) == 0
    template = load_template()
    declared = template["Parameters"]
    required = {name for name, spec in declared.items() if "Default" not in spec}
    for stage in ("staging", "prod"):
        given = set(exported(tmp_path, stage)["Parameters"])
        assert given <= set(declared), given - set(declared)
        assert required <= given, required - given


@pytest.mark.parametrize(
    ("case", "flag", "expected"),
    [
        ("false", "false", "false"),
        ("False", "False", "false"),
        ("no", "no", "false"),
        ("0", "0", "false"),
        ("true", "true", "true"),
        ("YES", "YES", "true"),
    ],
)
def test_enable_data_capture_flag(group: Any, tmp_path: Path, case: str, flag: str, expected: str) -> None:
    register(group, "Approved")
    assert run_build(tmp_path, group, "--enable-data-capture", flag) == 0
    for stage in ("staging", "prod"):
        assert exported(tmp_path, stage)["Parameters"]["EnableDataCapture"] == expected


def test_str2bool_refuses_other_words() -> None:
    assert build.str2bool("false") is False
    with pytest.raises(argparse.ArgumentTypeError, match="'maybe' is not a boolean"):
        build.str2bool("maybe")


def test_missing_required_value_names_the_flag_and_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MODEL_EXECUTION_ROLE_ARN", raising=False)
    with pytest.raises(SystemExit):
        build.parse_args(["--model-package-group-name", GROUP])
    err = capsys.readouterr().err
    assert "--model-execution-role is required" in err
    assert "MODEL_EXECUTION_ROLE_ARN" in err


def test_values_come_from_the_environment_the_template_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "MODEL_EXECUTION_ROLE_ARN": ROLE,
        "SOURCE_MODEL_PACKAGE_GROUP_NAME": GROUP,
        "SAGEMAKER_PROJECT_NAME": "abalone",
        "SAGEMAKER_PROJECT_ID": "p-1",
        "ARTIFACT_BUCKET": "sagemaker-project-p-1",
        "EXPORT_TEMPLATE_STAGING_CONFIG": "s.json",
        "EXPORT_TEMPLATE_PROD_CONFIG": "p.json",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = build.parse_args([])
    assert (args.model_package_group_name, args.s3_bucket) == (GROUP, "sagemaker-project-p-1")
    assert (args.export_staging_config, args.export_prod_config) == (Path("s.json"), Path("p.json"))
    assert args.enable_data_capture is None


@pytest.mark.parametrize(
    ("case", "content", "message"),
    [
        ("not json", "{", "not valid JSON"),
        ("not an object", "[]", "JSON object"),
        ("unknown key", '{"Parameters": {"StageName": "x"}, "Extra": 1}', "unknown keys"),
        ("nested value", '{"Parameters": {"StageName": {"a": 1}}}', "Parameters.StageName is dict"),
        ("no stage", '{"Parameters": {}}', "StageName is missing"),
    ],
)
def test_bad_config_files(group: Any, tmp_path: Path, case: str, content: str, message: str) -> None:
    register(group, "Approved")
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(build.BuildError, match=message):
        build.stage_config(
            build.read_config(bad),
            bad,
            project_name="p",
            project_id="i",
            execution_role=ROLE,
            model_package_arn="arn",
            bucket="b",
            enable_data_capture=None,
        )
