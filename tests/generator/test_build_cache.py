"""The CodeBuild projects that install packages keep pip's downloads in an S3 cache between builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from generator_helpers import template_of

from generator import constants as c
from generator.config import VARIANTS

ROOT = Path(__file__).resolve().parents[2]
PIP_CACHE = "/root/.cache/pip/**/*"  # CodeBuild's standard images run builds as root
BUILDSPECS = {
    c.MODELBUILD_PROJECT: ROOT / "seedcode/modelbuild/codebuild-buildspec.yml",
    c.DEPLOY_BUILD_PROJECT: ROOT / "seedcode/modeldeploy/buildspec.yml",
    c.DEPLOY_TEST_PROJECT: ROOT / "seedcode/modeldeploy/test/buildspec.yml",
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("project", sorted(BUILDSPECS))
def test_the_project_caches_in_its_artifact_bucket(variant: str, project: str) -> None:
    cache = template_of(VARIANTS[variant])["Resources"][project]["Properties"]["Cache"]
    assert cache["Type"] == "S3"
    location = cache["Location"]["Fn::Sub"]
    assert location == f"${{{c.ARTIFACT_BUCKET}}}/{c.BUILD_CACHE_PREFIX}/{project}"


@pytest.mark.parametrize("project", sorted(BUILDSPECS))
def test_the_buildspec_caches_what_pip_downloads(project: str) -> None:
    spec = yaml.safe_load(BUILDSPECS[project].read_text())
    commands = " ".join(" ".join(p.get("commands") or []) for p in spec["phases"].values())
    assert "pip install" in commands, "a buildspec that installs nothing needs no cache"
    assert PIP_CACHE in spec["cache"]["paths"]
