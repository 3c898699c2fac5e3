"""What an account holds before a project is created, set up on a stand-in for tests and benchmarks.

On AWS an admin has done this (``sm-mlops bootstrap``, ``register``, the connection's handshake); tests that
exercise the template alone, without those commands, start from here. The caller passes the asset zips (the
stand-in imports nothing of the project but the validator), keyed by the object keys the template names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from permissions.trust import trust_policy
from standin import changes

T = TypeVar("T")

# The Studio service roles the template's default family refers to, and the services that assume them.
SERVICE_ROLE_PREFIX = "AmazonSageMakerServiceCatalogProducts"
SERVICE_ROLES = ("CodeBuild", "CodePipeline", "Events", "Lambda", "CloudFormation", "Execution", "Use")
SERVICE_PRINCIPALS = tuple(
    f"{service}.amazonaws.com"
    for service in ("codebuild", "codepipeline", "events", "lambda", "cloudformation", "sagemaker")
)
REPOSITORIES = {"Build": "octo/build", "Deploy": "octo/deploy"}


def create_service_roles(standin: Any) -> None:
    """The template's service roles under ``/service-role/``, trusted by the services that use them."""
    iam = standin.client("iam")
    trust = trust_policy(list(SERVICE_PRINCIPALS))
    for role in SERVICE_ROLES:
        iam.create_role(
            RoleName=f"{SERVICE_ROLE_PREFIX}{role}Role",
            Path="/service-role/",
            AssumeRolePolicyDocument=json.dumps(trust),
        )


def upload_assets(standin: Any, assets: Mapping[str, bytes]) -> str:
    """The asset bucket holding the given objects; returns its name."""
    s3 = standin.client("s3")
    bucket = f"sagemaker-mlops-assets-{standin.account_id}-{standin.region}"
    s3.create_bucket(Bucket=bucket)
    # As `sm-mlops register` makes it: versioned, so the seeding function can pin what it verified.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key, data in assets.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    return bucket


def available_connection(standin: Any) -> str:
    """A GitHub connection tagged ``sagemaker=true`` whose handshake is done; returns its ARN."""
    arn = standin.client("codestar-connections").create_connection(
        ConnectionName="github", ProviderType="GitHub", Tags=[{"Key": "sagemaker", "Value": "true"}]
    )["ConnectionArn"]
    standin.admin.authorize_connection(arn)
    return str(arn)


def project_parameters(standin: Any, name: str, project_id: str, connection: str) -> dict[str, str]:
    """The v1 form's values for both repositories, each created with a README on the local Git server."""
    parameters = {"SageMakerProjectName": name, "SageMakerProjectId": project_id}
    for kind, repo in REPOSITORIES.items():
        standin.admin.create_repository(repo, readme=f"# {repo}\n")
        parameters[f"Model{kind}CodeRepositoryUrl"] = f"https://github.com/{repo}.git"
        parameters[f"Model{kind}CodeRepositoryFullname"] = repo
        parameters[f"Model{kind}CodeRepositoryCodestarConnectionArn"] = connection
    return parameters


def start_project_stack(
    standin: Any, template: str, assets: Mapping[str, bytes], stack_name: str, name: str, project_id: str
) -> None:
    """Roles, assets, an available connection and both repositories, then the project's stack (not waited)."""
    create_service_roles(standin)
    upload_assets(standin, assets)
    parameters = project_parameters(standin, name, project_id, available_connection(standin))
    standin.client("cloudformation").create_stack(
        StackName=stack_name,
        TemplateBody=template,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )


def wait_for(
    predicate: Callable[[], T | None | Literal[False]],
    timeout: float = 60.0,
    what: str = "the condition",
    interval: float = 0.25,
) -> T:
    """Check ``predicate`` until it returns something truthy and return it.

    The one waiting loop of the tests, the bench and the demo. Between checks it sleeps until the stand-in
    notes a change (``standin.changes``: a write request, a build's phase, a pipeline step, a stack event), so
    it wakes when what it waits for may have happened; ``interval`` is only the longest it sleeps without
    such a note (for a stand-in in another process). At ``timeout`` it raises AssertionError naming ``what``
    it waited for and for how long (never returns empty-handed)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = changes.version()
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        changes.wait(seen, min(interval, remaining))


def pipeline_runs(codepipeline: Any, pipeline: str) -> list[dict]:
    """A pipeline's executions, newest first."""
    return list(codepipeline.list_pipeline_executions(pipelineName=pipeline)["pipelineExecutionSummaries"])


def settled_runs(codepipeline: Any, pipeline: str) -> list[dict] | None:
    """The executions once there is at least one and none is running, else None."""
    runs = pipeline_runs(codepipeline, pipeline)
    return runs if runs and all(r["status"] not in ("InProgress", "Stopping") for r in runs) else None


def wait_stack(cloudformation: Any, name: str, timeout: float = 60) -> dict:
    """The stack once it has left every ``*_IN_PROGRESS`` status."""

    def settled() -> dict | None:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        return None if stack["StackStatus"].endswith("IN_PROGRESS") else stack

    return wait_for(settled, timeout, f"stack {name} to leave *_IN_PROGRESS", interval=0.05)
