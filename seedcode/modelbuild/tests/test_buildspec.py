"""codebuild-buildspec.yml runs run-pipeline with kwargs get_pipeline takes, from the template's variables."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
from pathlib import Path

import yaml
from helpers import REPO

from pipelines import run_pipeline
from pipelines.abalone.pipeline import get_pipeline

BUILDSPEC = REPO / "codebuild-buildspec.yml"
# The environment the template's model build CodeBuild project (SageMakerModelPipelineBuildProject) sets.
TEMPLATE_VARIABLES = {
    "SAGEMAKER_PROJECT_NAME": "abalone",
    "SAGEMAKER_PROJECT_ID": "p-0123456789ab",
    "ARTIFACT_BUCKET": "sagemaker-project-p-0123456789ab",
    "SAGEMAKER_PIPELINE_NAME": "sagemaker-abalone-p-0123456789ab",
    "SAGEMAKER_PIPELINE_ROLE_ARN": "arn:aws:iam::123456789012:role/service-role/SageMakerPipelines",
    "AWS_REGION": "eu-west-1",
}


def build_commands() -> list[str]:
    spec = yaml.safe_load(BUILDSPEC.read_text())
    return [str(command) for command in spec["phases"]["build"]["commands"]]


def run_pipeline_argv(tmp_path: Path) -> list[str]:
    """Run the build command in sh (as CodeBuild does) with a stand-in run-pipeline that records its argv."""
    (command,) = [command for command in build_commands() if command.lstrip().startswith("run-pipeline")]
    recorder = tmp_path / "bin" / "run-pipeline"
    recorder.parent.mkdir()
    recorder.write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"\n")
    recorder.chmod(0o755)
    environment = {**TEMPLATE_VARIABLES, "PATH": f"{recorder.parent}:/usr/bin:/bin"}
    completed = subprocess.run(
        ["/bin/sh", "-euc", command], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.split("\0")[:-1]


def test_the_buildspec_uses_only_the_templates_variables() -> None:
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", BUILDSPEC.read_text()))
    assert used <= set(TEMPLATE_VARIABLES), (
        f"not set by the template: {sorted(used - set(TEMPLATE_VARIABLES))}"
    )


def test_the_buildspec_installs_the_package_and_runs_the_abalone_pipeline(tmp_path: Path) -> None:
    spec = yaml.safe_load(BUILDSPEC.read_text())
    assert any(
        "pip install" in c and c.rstrip().endswith(" .") for c in spec["phases"]["install"]["commands"]
    )
    args = run_pipeline.parse_args(run_pipeline_argv(tmp_path))
    assert args.module_name == "pipelines.abalone.pipeline"
    assert args.role_arn == TEMPLATE_VARIABLES["SAGEMAKER_PIPELINE_ROLE_ARN"]


def test_the_kwargs_match_get_pipelines_signature(tmp_path: Path) -> None:
    kwargs = json.loads(run_pipeline.parse_args(run_pipeline_argv(tmp_path)).kwargs)
    parameters = inspect.signature(get_pipeline).parameters
    required = {name for name, p in parameters.items() if p.default is inspect.Parameter.empty}
    assert set(kwargs) <= set(parameters), f"unknown to get_pipeline: {sorted(set(kwargs) - set(parameters))}"
    assert required <= set(kwargs), f"missing: {sorted(required - set(kwargs))}"
    name, project_id = (
        TEMPLATE_VARIABLES["SAGEMAKER_PROJECT_NAME"],
        TEMPLATE_VARIABLES["SAGEMAKER_PROJECT_ID"],
    )
    assert kwargs == {
        "region": TEMPLATE_VARIABLES["AWS_REGION"],
        "role": TEMPLATE_VARIABLES["SAGEMAKER_PIPELINE_ROLE_ARN"],
        "default_bucket": TEMPLATE_VARIABLES["ARTIFACT_BUCKET"],
        "pipeline_name": TEMPLATE_VARIABLES["SAGEMAKER_PIPELINE_NAME"],
        "model_package_group_name": f"{name}-{project_id}",
        "base_job_prefix": f"{name}-{project_id}",
        "sagemaker_project_name": name,
    }


def test_the_tags_name_the_project(tmp_path: Path) -> None:
    tags = json.loads(run_pipeline.parse_args(run_pipeline_argv(tmp_path)).tags)
    assert tags == [
        {"Key": "sagemaker:project-name", "Value": TEMPLATE_VARIABLES["SAGEMAKER_PROJECT_NAME"]},
        {"Key": "sagemaker:project-id", "Value": TEMPLATE_VARIABLES["SAGEMAKER_PROJECT_ID"]},
    ]


def test_the_entry_points_are_declared() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'run-pipeline = "pipelines.run_pipeline:main"' in text
    assert 'get-pipeline-definition = "pipelines.get_pipeline_definition:main"' in text
    assert Path(REPO / "pipelines" / "run_pipeline.py").is_file()
