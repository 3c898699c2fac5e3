"""Pick the newest approved model package and write the staging and prod stack configuration files.

Runs in the ModelDeploy CodeBuild project (see buildspec.yml). It reads the model package group
`SOURCE_MODEL_PACKAGE_GROUP_NAME`, takes its newest package whose approval status is `Approved` (pending and
rejected packages are skipped), and writes one CloudFormation template configuration file per stage:

    {"Parameters": {...}, "Tags": {...}}

Parameters hold the project, the execution role, the model package and the stage's settings from
`staging-config.json` / `prod-config.json`; Tags carry `sagemaker:project-name`, `sagemaker:project-id` and
`sagemaker:deployment-stage`. CodePipeline's CloudFormation actions deploy `endpoint-config-template.yml`
with them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import boto3

logger = logging.getLogger("build")

APPROVED = "Approved"
TRUE_WORDS = {"true", "t", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "off"}
TAG_PROJECT_NAME = "sagemaker:project-name"
TAG_PROJECT_ID = "sagemaker:project-id"
TAG_STAGE = "sagemaker:deployment-stage"


class BuildError(Exception):
    """A problem the person running the build can fix; the message says how."""


def str2bool(value: str | bool) -> bool:
    """Parse a command-line boolean: "true"/"false" (and yes/no, 1/0, on/off), any case.

    argparse's `type=bool` would turn the string "false" into True; this does not.
    """
    if isinstance(value, bool):
        return value
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"{value!r} is not a boolean; use true or false")


def find_newest_approved(sm_client: Any, group_name: str, page_size: int = 50) -> dict[str, Any]:
    """Summary of the newest `Approved` package of a group, walking every page of list_model_packages.

    The listing is not filtered by status on the server, so the error can say what the group does hold.
    """
    paginator = sm_client.get_paginator("list_model_packages")
    pages = paginator.paginate(
        ModelPackageGroupName=group_name,
        SortBy="CreationTime",
        SortOrder="Descending",
        PaginationConfig={"PageSize": page_size},
    )
    seen: dict[str, int] = {}
    newest: dict[str, Any] | None = None
    for page in pages:
        for summary in page.get("ModelPackageSummaryList", []):
            status = summary.get("ModelApprovalStatus", "unknown")
            seen[status] = seen.get(status, 0) + 1
            if status == APPROVED and (newest is None or summary["CreationTime"] > newest["CreationTime"]):
                newest = summary
        if newest is not None:
            break  # pages come newest first: nothing on a later page can be newer
    if newest is None:
        held = ", ".join(f"{count} {status}" for status, count in sorted(seen.items())) or "no packages"
        raise BuildError(
            f"model package group {group_name!r} has no Approved model package ({held}). "
            "Run the model build pipeline to register a model, then approve it: in SageMaker Studio "
            "(Models > Registered models > the group > the version > Update status > Approved) or with "
            "`aws sagemaker update-model-package --model-package-arn <arn> "
            f"--model-approval-status {APPROVED}`."
        )
    logger.info("newest approved package of %s: %s", group_name, newest["ModelPackageArn"])
    return newest


def read_config(path: Path) -> dict[str, Any]:
    """A stage's configuration file: {"Parameters": {name: value}, "Tags": {key: value}} (both optional)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise BuildError(f"configuration file {path} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise BuildError(f"configuration file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BuildError(f"configuration file {path} must hold a JSON object with Parameters and Tags")
    unknown = sorted(set(data) - {"Parameters", "Tags"})
    if unknown:
        raise BuildError(
            f"configuration file {path}: unknown keys {unknown}; only Parameters and Tags are read"
        )
    for section in ("Parameters", "Tags"):
        values = data.get(section, {})
        if not isinstance(values, dict):
            raise BuildError(f"configuration file {path}: {section} must be an object of name: value")
        for key, value in values.items():
            if not isinstance(value, (str, int, float, bool)):
                raise BuildError(
                    f"configuration file {path}: {section}.{key} is {type(value).__name__}; "
                    "use a string, number or boolean"
                )
    return data


def _as_text(value: str | int | float | bool) -> str:
    """CloudFormation configuration files hold strings only; booleans become true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stage_config(
    config: dict[str, Any],
    config_path: Path,
    *,
    project_name: str,
    project_id: str,
    execution_role: str,
    model_package_arn: str,
    bucket: str,
    enable_data_capture: bool | None,
) -> dict[str, dict[str, str]]:
    """The exported configuration of one stage: the file's values plus the project and model."""
    parameters = {key: _as_text(value) for key, value in config.get("Parameters", {}).items()}
    stage = parameters.get("StageName")
    if not stage:
        raise BuildError(
            f'configuration file {config_path}: Parameters.StageName is missing (e.g. "staging")'
        )
    parameters.update(
        {
            "SageMakerProjectName": project_name,
            "ModelExecutionRoleArn": execution_role,
            "ModelPackageName": model_package_arn,
        }
    )
    parameters.setdefault("DataCaptureUploadPath", f"s3://{bucket}/datacapture-{stage}")
    if enable_data_capture is not None:
        parameters["EnableDataCapture"] = _as_text(enable_data_capture)
    tags = {key: _as_text(value) for key, value in config.get("Tags", {}).items()}
    tags.update({TAG_PROJECT_NAME: project_name, TAG_PROJECT_ID: project_id, TAG_STAGE: stage})
    return {"Parameters": dict(sorted(parameters.items())), "Tags": dict(sorted(tags.items()))}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default=env("LOGLEVEL", "INFO").upper())
    parser.add_argument("--model-execution-role", default=env("MODEL_EXECUTION_ROLE_ARN"))
    parser.add_argument("--model-package-group-name", default=env("SOURCE_MODEL_PACKAGE_GROUP_NAME"))
    parser.add_argument("--sagemaker-project-name", default=env("SAGEMAKER_PROJECT_NAME"))
    parser.add_argument("--sagemaker-project-id", default=env("SAGEMAKER_PROJECT_ID"))
    parser.add_argument("--s3-bucket", default=env("ARTIFACT_BUCKET"), help="bucket of the data capture")
    parser.add_argument("--import-staging-config", type=Path, default=Path("staging-config.json"))
    parser.add_argument("--import-prod-config", type=Path, default=Path("prod-config.json"))
    parser.add_argument(
        "--export-staging-config",
        type=Path,
        default=Path(env("EXPORT_TEMPLATE_STAGING_CONFIG", "staging-config-export.json")),
    )
    parser.add_argument(
        "--export-prod-config",
        type=Path,
        default=Path(env("EXPORT_TEMPLATE_PROD_CONFIG", "prod-config-export.json")),
    )
    parser.add_argument(
        "--enable-data-capture",
        type=str2bool,
        default=None,
        metavar="{true,false}",
        help="override EnableDataCapture of both stages (default: keep each config file's value)",
    )
    args = parser.parse_args(argv)
    required = {
        "--model-execution-role": ("model_execution_role", "MODEL_EXECUTION_ROLE_ARN"),
        "--model-package-group-name": ("model_package_group_name", "SOURCE_MODEL_PACKAGE_GROUP_NAME"),
        "--sagemaker-project-name": ("sagemaker_project_name", "SAGEMAKER_PROJECT_NAME"),
        "--sagemaker-project-id": ("sagemaker_project_id", "SAGEMAKER_PROJECT_ID"),
        "--s3-bucket": ("s3_bucket", "ARTIFACT_BUCKET"),
    }
    for flag, (attribute, variable) in required.items():
        if not getattr(args, attribute):
            parser.error(f"{flag} is required: pass it or set the environment variable {variable}")
    return args


def main(argv: list[str] | None = None, sm_client: Any = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(name)s: %(message)s")
    sm_client = sm_client or boto3.client("sagemaker")
    try:
        package = find_newest_approved(sm_client, args.model_package_group_name)
        described = sm_client.describe_model_package(ModelPackageName=package["ModelPackageArn"])
        common = {
            "project_name": args.sagemaker_project_name,
            "project_id": args.sagemaker_project_id,
            "execution_role": args.model_execution_role,
            "model_package_arn": described["ModelPackageArn"],
            "bucket": args.s3_bucket,
            "enable_data_capture": args.enable_data_capture,
        }
        for source, target in (
            (args.import_staging_config, args.export_staging_config),
            (args.import_prod_config, args.export_prod_config),
        ):
            exported = stage_config(read_config(source), source, **common)
            target.write_text(json.dumps(exported, indent=2) + "\n")
            logger.info("wrote %s (stage %s)", target, exported["Parameters"]["StageName"])
    except BuildError as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
