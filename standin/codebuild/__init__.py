"""CodeBuild as the stand-in answers it: builds that really run (runner, environments, buildspecs) behind
the API."""

from standin.codebuild import api
from standin.codebuild.api import runner_for
from standin.codebuild.builds import BuildResult, Phase
from standin.codebuild.buildspec import BuildspecError, parse_buildspec
from standin.codebuild.environments import requirements_hash
from standin.codebuild.runner import BuildRunner

__all__ = [
    "BuildResult",
    "BuildRunner",
    "BuildspecError",
    "Phase",
    "api",
    "parse_buildspec",
    "requirements_hash",
    "runner_for",
]
