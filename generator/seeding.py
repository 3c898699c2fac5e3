"""Our own seeding: the check-in CodeBuild project, its trigger Lambda, one custom resource per repository."""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from pathlib import Path

from troposphere import GetAtt, Ref, Sub, Template, awslambda
from troposphere import codebuild as cb
from troposphere.cloudformation import CustomResource

from generator import constants as c
from generator.config import TemplateConfig
from generator.parameters import Inputs
from generator.roles import role_arn
from generator.scanners import LAMBDA_SKIPS, checkov_skips
from seeding.assets import BOOTSTRAP, MODELBUILD, MODELDEPLOY, Asset, build_assets

FUNCTION_SOURCE = Path(__file__).resolve().parent.parent / "seeding" / "function.py"
SEED_ASSET = {c.MODELBUILD: MODELBUILD, c.MODELDEPLOY: MODELDEPLOY}


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


@functools.cache
def asset_keys() -> dict[str, str]:
    """Object keys of the seed and bootstrap zips (content-hashed), zipped once per process."""
    return {name: asset.key for name, asset in _assets().items()}


@functools.cache
def asset_sha256() -> dict[str, str]:
    """Full SHA-256 of each zip: the seeding function refuses an object in the shared bucket without it."""
    return {name: asset.sha256 for name, asset in _assets().items()}


@functools.cache
def _assets() -> dict[str, Asset]:
    return build_assets()


def function_code() -> str:
    """seeding/function.py as inlined into the template (checked to still compile)."""
    code = compact_source(FUNCTION_SOURCE.read_text())
    compile(code, "index.py", "exec")
    return code


def add_seeding(template: Template, config: TemplateConfig, inputs: Inputs) -> dict[str, CustomResource]:
    """Add the check-in project, the Lambda that runs it, and a check-in custom resource per repository."""
    keys, digests = asset_keys(), asset_sha256()
    any_seed = {"Condition": inputs.any_seed_condition} if inputs.any_seed_condition else {}
    project = template.add_resource(
        cb.Project(
            c.CHECKIN_PROJECT,
            Name=Sub(c.CHECKIN_PROJECT_NAME),
            Description="Pushes the seed code into a Git repository through the connection's git proxy",
            ServiceRole=role_arn(config.role_family, "CodeBuild", config.role_arns),
            Source=cb.Source(Type="S3", Location=Sub(f"{c.ASSET_BUCKET_NAME}/{keys[BOOTSTRAP]}")),
            Artifacts=cb.Artifacts(Type="NO_ARTIFACTS"),
            Environment=cb.Environment(
                Type="LINUX_CONTAINER", ComputeType=c.COMPUTE_TYPE, Image=c.BUILD_IMAGE
            ),
            TimeoutInMinutes=c.CHECKIN_BUILD_TIMEOUT,
            **({"EncryptionKey": config.kms_key_arn} if config.kms_key_arn else {}),
            **any_seed,
        )
    )
    function = template.add_resource(
        awslambda.Function(
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
            **any_seed,
        )
    )
    invokers = {}
    for repo in c.REPOS:
        fields = inputs.repos[repo]
        condition = {"Condition": fields.seed_condition} if fields.seed_condition else {}
        invokers[repo] = template.add_resource(
            CustomResource(
                c.CHECKIN_INVOKER[repo],
                ServiceToken=GetAtt(function, "Arn"),
                CodeBuildProjectName=Ref(project),
                SeedCodeBucket=Sub(c.ASSET_BUCKET_NAME),
                SeedCodeKey=keys[SEED_ASSET[repo]],
                SeedCodeSha256=digests[SEED_ASSET[repo]],
                BootstrapKey=keys[BOOTSTRAP],
                BootstrapSha256=digests[BOOTSTRAP],
                ConnectionArn=Ref(fields.connection),
                FullRepositoryName=Ref(fields.fullname),
                Branch=Ref(fields.branch),
                **condition,
            )
        )
    return invokers
