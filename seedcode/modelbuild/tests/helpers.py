"""Constants and helpers the tests share: the template's kwargs and readers of a pipeline definition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA_FILE = REPO / "data" / "abalone.csv"
REGION = "us-east-1"
BUCKET = "sagemaker-project-artifacts"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole"
PIPELINE_KWARGS: dict[str, Any] = {
    "region": REGION,
    "role": ROLE,
    "default_bucket": BUCKET,
    "pipeline_name": "sagemaker-abalone-p-0123456789ab",
    "model_package_group_name": "abalone-p-0123456789ab",
    "base_job_prefix": "abalone-p-0123456789ab",
    "sagemaker_project_name": "abalone",
    "input_data_file": str(DATA_FILE),
}

# Environment for any process that builds a definition: fake credentials, no real endpoint, quiet SDK.
OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
}


def steps_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step, including those nested in a condition's branches, by name."""
    found: dict[str, dict[str, Any]] = {}

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            arguments = step.get("Arguments", {})
            if step["Type"] == "Condition":
                visit(arguments.get("IfSteps", []))
                visit(arguments.get("ElseSteps", []))

    visit(definition["Steps"])
    return found


def parameter_defaults(definition: dict[str, Any]) -> dict[str, Any]:
    return {parameter["Name"]: parameter.get("DefaultValue") for parameter in definition["Parameters"]}


def resolve(definition: dict[str, Any], value: Any) -> Any:
    """Resolve a `{"Get": "Parameters.X"}` reference to the parameter's default; other values as they are."""
    if (
        isinstance(value, dict)
        and isinstance(value.get("Get"), str)
        and value["Get"].startswith("Parameters.")
    ):
        return parameter_defaults(definition)[value["Get"].removeprefix("Parameters.")]
    return value
