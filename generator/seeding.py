"""Our own seeding: the check-in CodeBuild project, its trigger Lambda, one custom resource per repository.

The Lambda is the custom resources' ServiceToken, so it must not change once a project exists: CloudFormation
refuses a new ServiceToken on update, and AWS's launch role may not update a function's code or settings (no
lambda:UpdateFunctionCode or UpdateFunctionConfiguration). It is a generic trigger: everything a release
changes (the seed and bootstrap keys and hashes, the build's environment, the repository URL) is a property
of the custom resources, which an update may change (CloudFormation sends Update to the same function), or
lives in the bootstrap the check-in build runs.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from collections.abc import Mapping
from pathlib import Path

from troposphere import GetAtt, Ref, Sub, Template, awslambda
from troposphere import codebuild as cb
from troposphere.cloudformation import CustomResource

from generator import constants as c
from generator.config import TemplateConfig
from generator.parameters import Inputs
from generator.repositories import proxy_url
from generator.roles import role_arn
from generator.scanners import LAMBDA_SKIPS, checkov_skips
from seeding.assets import BOOTSTRAP, MODELBUILD, MODELDEPLOY, Asset, build_assets

FUNCTION_SOURCE = Path(__file__).resolve().parent.parent / "seeding" / "function.py"
SEED_ASSET = {c.MODELBUILD: MODELBUILD, c.MODELDEPLOY: MODELDEPLOY}
# The check-in build's environment (seeding/bootstrap/buildspec.yml reads these names).
REPOSITORY_URL = "REPOSITORY_URL"
REPOSITORY_BRANCH = "REPOSITORY_BRANCH"
SEED_CODE_S3_URI = "SEED_CODE_S3_URI"
SEED_CODE_ID = "SEED_CODE_ID"
SEED_CODE_SHA256 = "SEED_CODE_SHA256"
BUILD_VARIABLES = (REPOSITORY_URL, REPOSITORY_BRANCH, SEED_CODE_S3_URI, SEED_CODE_ID, SEED_CODE_SHA256)


def compact_source(source: str) -> str:
    """The source without docstrings, comments and blank lines: same behaviour, fewer template bytes.

    Works on lines (not ast.unparse) so the output does not depend on the Python version rendering it.
    """
    drop: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and body:
            first = body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                drop.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    kept = [line.rstrip() for number, line in enumerate(lines, start=1) if number not in drop]
    return "\n".join(line for line in kept if line.strip()) + "\n"


def asset_keys() -> dict[str, str]:
    """Object keys of the seed and bootstrap zips (content-hashed), zipped once per process."""
    return {name: asset.key for name, asset in release_assets().items()}


@functools.cache
def release_assets() -> dict[str, Asset]:
    """This checkout's (or wheel's) seed and bootstrap zips, built once per process."""
    return build_assets()


def function_code() -> str:
    """seeding/function.py as inlined into the template (checked to still compile)."""
    code = compact_source(FUNCTION_SOURCE.read_text())
    compile(code, "index.py", "exec")
    return code


def build_environment(branch: Ref, url: Sub, seed: Asset) -> dict[str, object]:
    """The check-in build's environment for one repository, as the custom resource carries it."""
    return {
        REPOSITORY_URL: url,
        REPOSITORY_BRANCH: branch,
        SEED_CODE_S3_URI: Sub(f"s3://{c.ASSET_BUCKET_NAME}/{seed.key}"),
        SEED_CODE_ID: seed.key.rsplit("/", 1)[-1],  # the commit trailer names it
        SEED_CODE_SHA256: seed.sha256,  # the build refuses a seed zip with another hash
    }


def add_seeding(
    template: Template,
    config: TemplateConfig,
    inputs: Inputs,
    assets: Mapping[str, Asset] | None = None,
) -> dict[str, CustomResource]:
    """Add the check-in project, the Lambda that runs it, and a check-in custom resource per repository.

    `assets`: the seed and bootstrap zips the template pins (default: this release's, `release_assets()`).
    """
    assets = release_assets() if assets is None else assets
    bootstrap = assets[BOOTSTRAP]
    any_seed = {"Condition": inputs.any_seed_condition} if inputs.any_seed_condition else {}
    project = template.add_resource(
        cb.Project(
            c.CHECKIN_PROJECT,
            Name=Sub(c.CHECKIN_PROJECT_NAME),
            Description="Pushes the seed code into a Git repository through the connection's git proxy",
            ServiceRole=role_arn(config.role_family, "CodeBuild", config.role_arns),
            Source=cb.Source(Type="S3", Location=Sub(f"{c.ASSET_BUCKET_NAME}/{bootstrap.key}")),
            Artifacts=cb.Artifacts(Type="NO_ARTIFACTS"),
            Environment=cb.Environment(
                Type="LINUX_CONTAINER", ComputeType=c.COMPUTE_TYPE, Image=c.BUILD_IMAGE
            ),
            TimeoutInMinutes=c.CHECKIN_BUILD_TIMEOUT,
            **({"EncryptionKey": config.kms_key_arn} if config.kms_key_arn else {}),
            **any_seed,
        )
    )
    function = template.add_resource(seeding_function(config, any_seed))
    invokers = {}
    for repo in c.REPOS:
        fields = inputs.repos[repo]
        seed = assets[SEED_ASSET[repo]]
        url = proxy_url(fields)
        condition = {"Condition": fields.seed_condition} if fields.seed_condition else {}
        invokers[repo] = template.add_resource(
            CustomResource(
                c.CHECKIN_INVOKER[repo],
                ServiceToken=GetAtt(function, "Arn"),
                CodeBuildProjectName=Ref(project),
                SeedCodeBucket=Sub(c.ASSET_BUCKET_NAME),
                SeedCodeKey=seed.key,
                SeedCodeSha256=seed.sha256,
                BootstrapKey=bootstrap.key,
                BootstrapSha256=bootstrap.sha256,
                RepositoryUrl=url,
                BuildEnvironment=build_environment(Ref(fields.branch), url, seed),
                **condition,
            )
        )
    return invokers


def seeding_function(config: TemplateConfig, condition: dict[str, str]) -> awslambda.Function:
    """The custom resources' function: nothing in it depends on the release's seed or bootstrap."""
    return awslambda.Function(
        c.CHECKIN_LAMBDA,
        FunctionName=Sub(c.CHECKIN_LAMBDA_NAME),
        Description="Runs the seed code check-in build, answers CloudFormation with the repository URL",
        Handler="index.handler",
        Runtime=c.LAMBDA_RUNTIME,
        Timeout=c.LAMBDA_TIMEOUT,
        MemorySize=128,
        Role=role_arn(config.role_family, "Lambda", config.role_arns),
        Code=awslambda.Code(ZipFile=function_code()),
        Metadata=checkov_skips(*LAMBDA_SKIPS),
        **condition,
    )
