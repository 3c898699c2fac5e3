"""SageMaker code repositories (moto has none): their state in moto's SageMaker backend, and the
``Create/Describe/List/DeleteCodeRepository`` API. Stacks make them too (``AWS::SageMaker::CodeRepository`` in
``standin.cloudformation.resource_types``)."""

from __future__ import annotations

import re
import time
from typing import Any

from moto.backends import get_backend

from standin.dispatch import AwsError, Context, operation


def code_repositories(account_id: str, region: str) -> dict[str, dict]:
    """The SageMaker code repositories of an account and region (moto has none), by name."""
    backend: Any = get_backend("sagemaker")[account_id][region]
    if not hasattr(backend, "standin_code_repositories"):
        backend.standin_code_repositories = {}
    return backend.standin_code_repositories


def create_repository(account_id: str, region: str, resource_name: str, git: dict, tags: list) -> dict:
    """Store a code repository named after ``resource_name``; returns it (errors worded as CloudFormation)."""
    if not git.get("RepositoryUrl"):
        raise ValueError("Property GitConfig.RepositoryUrl cannot be empty.")
    # SageMaker names allow letters, digits and hyphens, at most 63 characters.
    name = re.sub(r"[^A-Za-z0-9-]", "-", resource_name)[:63]
    arn = f"arn:aws:sagemaker:{region}:{account_id}:code-repository/{name.lower()}"
    store = code_repositories(account_id, region)
    if name in store:
        raise ValueError(f"Code repository {name} already exists.")
    now = time.time()
    store[name] = {
        "CodeRepositoryName": name,
        "CodeRepositoryArn": arn,
        "CreationTime": now,
        "LastModifiedTime": now,
        "GitConfig": {k: v for k, v in git.items() if k in ("RepositoryUrl", "Branch", "SecretArn")},
        "Tags": tags,
    }
    return store[name]


def delete_repository(account_id: str, region: str, name: str) -> None:
    code_repositories(account_id, region).pop(name, None)


def _repository_or_error(ctx: Context, name: str) -> dict:
    repository = code_repositories(ctx.account_id, ctx.region).get(name)
    if repository is None:
        raise AwsError("ValidationException", f"Cannot find CodeRepository with name {name}")
    return repository


@operation("sagemaker", "CreateCodeRepository")
def create_code_repository(ctx: Context, params: dict) -> dict:
    name = params.get("CodeRepositoryName", "")
    if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name):
        raise AwsError(
            "ValidationException",
            f"CodeRepositoryName {name!r}: letters, digits and hyphens, "
            "1 to 63 characters, starting with a letter or digit",
        )
    repository = create_repository(
        ctx.account_id, ctx.region, name, params.get("GitConfig") or {}, params.get("Tags") or []
    )
    return {"CodeRepositoryArn": repository["CodeRepositoryArn"]}


@operation("sagemaker", "DescribeCodeRepository")
def describe_code_repository(ctx: Context, params: dict) -> dict:
    repository = _repository_or_error(ctx, params.get("CodeRepositoryName", ""))
    return {k: v for k, v in repository.items() if k != "Tags"}


@operation("sagemaker", "ListCodeRepositories")
def list_code_repositories(ctx: Context, params: dict) -> dict:
    repositories = sorted(
        code_repositories(ctx.account_id, ctx.region).values(), key=lambda r: r["CreationTime"], reverse=True
    )
    contains = params.get("NameContains")
    summaries = [
        {k: v for k, v in r.items() if k != "Tags"}
        for r in repositories
        if not contains or contains in r["CodeRepositoryName"]
    ]
    return {"CodeRepositorySummaryList": summaries}


@operation("sagemaker", "DeleteCodeRepository")
def delete_code_repository(ctx: Context, params: dict) -> dict:
    name = params.get("CodeRepositoryName", "")
    _repository_or_error(ctx, name)
    delete_repository(ctx.account_id, ctx.region, name)
    return {}
