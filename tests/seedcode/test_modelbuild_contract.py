"""The model build seed agrees with the rendered templates and docs/DESIGN.md about its CodeBuild project."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seedcode" / "modelbuild"
TEMPLATES = sorted((ROOT / "templates").glob("*.yaml"))
BUILD_PROJECT = "SageMakerModelPipelineBuildProject"


def design_variables() -> set[str]:
    """The model build variables that docs/DESIGN.md's "CodeBuild environments" section lists."""
    text = (ROOT / "docs" / "DESIGN.md").read_text()
    start = text.index("Model build (`SageMakerModelPipelineBuildProject`)")
    paragraph = text[start : text.index("Model deploy (", start)]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", paragraph))


def buildspec_variables() -> set[str]:
    return set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", (SEED / "codebuild-buildspec.yml").read_text()))


def seed_test_variables() -> set[str]:
    """The variables the seed's own (standalone) buildspec test assumes the template sets."""
    source = (SEED / "tests" / "test_buildspec.py").read_text()
    block = source[
        source.index("TEMPLATE_VARIABLES = {") : source.index("}", source.index("TEMPLATE_VARIABLES = {"))
    ]
    return set(re.findall(r'"([A-Z][A-Z0-9_]+)":', block))


def build_project(template: Path) -> dict[str, Any]:
    return yaml.safe_load(template.read_text())["Resources"][BUILD_PROJECT]["Properties"]


def test_the_buildspec_uses_only_the_variables_design_md_lists() -> None:
    assert design_variables() == {
        "SAGEMAKER_PROJECT_NAME",
        "SAGEMAKER_PROJECT_ID",
        "ARTIFACT_BUCKET",
        "SAGEMAKER_PIPELINE_NAME",
        "SAGEMAKER_PIPELINE_ROLE_ARN",
        "AWS_REGION",
    }
    assert buildspec_variables() <= design_variables()
    assert seed_test_variables() == design_variables()


@pytest.mark.parametrize("template", TEMPLATES, ids=[path.stem for path in TEMPLATES])
def test_each_template_sets_what_the_buildspec_reads(template: Path) -> None:
    project = build_project(template)
    names = {variable["Name"] for variable in project["Environment"]["EnvironmentVariables"]}
    missing = buildspec_variables() - names
    assert not missing, f"{template.name}: {BUILD_PROJECT} does not set {sorted(missing)}"
    assert (SEED / project["Source"]["BuildSpec"]).is_file()


@pytest.mark.parametrize("template", TEMPLATES, ids=[path.stem for path in TEMPLATES])
def test_run_pipeline_gives_up_before_the_build_does(template: Path) -> None:
    source = (SEED / "pipelines" / "run_pipeline.py").read_text()
    default_wait = int(re.search(r"^DEFAULT_TIMEOUT_MINUTES = (\d+)$", source, re.MULTILINE).group(1))  # type: ignore[union-attr]
    build_limit = build_project(template).get("TimeoutInMinutes", 60)
    assert default_wait < build_limit, (
        f"{template.name}: the build stops at {build_limit} min, before the wait"
    )
