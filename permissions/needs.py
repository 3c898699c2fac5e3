"""What one request needs of IAM: an action, the ARN it is authorized on, and the condition keys it carries.

ARNs, actions and context values are templates with named fields (``{partition}``, ``{artifact_bucket}``,
``{role_CodeBuild}``...), filled in by `Need.render` from a mapping the caller builds from the project's own
names; FIELDS lists them. This module imports nothing of the project: commands and stand-in may use it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

# The fields the templates below use, and what each holds. Callers fill every one (`missing_fields` checks).
FIELDS: dict[str, str] = {
    "partition": "the AWS partition, e.g. aws",
    "region": "the region, e.g. eu-west-1",
    "account": "the 12-digit account id",
    "project_name": "the SageMaker project's name",
    "project_id": "the SageMaker project's id (p-...)",
    "product_id": "the Service Catalog product's id (prod-...)",
    "product_stack": "the stack Service Catalog provisions the product as: SC-<account>-pp-<id>",
    "servicecatalog_template": "bucket/key of Service Catalog's own copy of the product's template",
    "artifact_bucket": "the project's artifact bucket",
    "asset_bucket": "the shared asset bucket of seed zips, bootstrap and templates",
    "seed_key": "a seed zip's key in the asset bucket",
    "bootstrap_key": "the check-in bootstrap zip's key in the asset bucket",
    "modelbuild_project": "the model build CodeBuild project",
    "deploy_build_project": "the model deploy CodeBuild project",
    "deploy_test_project": "the staging test CodeBuild project",
    "checkin_project": "the seed check-in CodeBuild project",
    "modelbuild_pipeline": "the model build CodePipeline pipeline",
    "modeldeploy_pipeline": "the model deploy CodePipeline pipeline",
    "approval_stage": "the deploy pipeline's stage that holds the manual approval",
    "approval_action": "the manual approval action",
    "deploy_rule": "the EventBridge rule that starts the deploy pipeline",
    "checkin_lambda": "the seeding Lambda function",
    "code_repository_build": "the SageMaker code repository of the model build repository",
    "code_repository_deploy": "the SageMaker code repository of the model deploy repository",
    "sagemaker_pipeline": "the SageMaker pipeline the model build creates",
    "model_package_group": "the model package group the SageMaker pipeline registers into",
    "staging_stack": "the staging deploy stack",
    "prod_stack": "the prod deploy stack",
    "staging_endpoint": "the staging endpoint",
    "prod_endpoint": "the prod endpoint",
    "model": "a SageMaker model a deploy stack creates",
    "endpoint_config": "an endpoint configuration a deploy stack creates",
    "connection": "the connection's ARN",
    "connections": "the connection's IAM prefix: codestar-connections or codeconnections",
    "full_repository": "a repository's owner/name",
    "role_CodeBuild": "the CodeBuild role's path and name, e.g. service-role/...CodeBuildRole",
    "role_CodePipeline": "the CodePipeline role's path and name",
    "role_Events": "the Events role's path and name",
    "role_Lambda": "the Lambda role's path and name",
    "role_CloudFormation": "the CloudFormation role's path and name",
    "role_Execution": "the SageMaker execution role's path and name",
}

# SimulatePrincipalPolicy's ContextKeyType values used here.
STRING, STRING_LIST, BOOLEAN = "string", "stringList", "boolean"


@dataclass(frozen=True)
class Context:
    """A condition key the request carries, with its value(s) (templates too)."""

    key: str
    values: tuple[str, ...]
    type: str = STRING


@dataclass(frozen=True)
class Need:
    """One action on one resource, with the condition keys the request supplies and the call that makes it."""

    action: str
    resource: str
    why: str
    context: tuple[Context, ...] = ()

    def render(self, values: Mapping[str, str]) -> Need:
        """This need with every field filled in from ``values``."""
        return Need(
            self.action.format_map(values),
            self.resource.format_map(values),
            self.why.format_map(values),
            tuple(
                Context(c.key.format_map(values), tuple(v.format_map(values) for v in c.values), c.type)
                for c in self.context
            ),
        )

    def fields(self) -> set[str]:
        """The fields this need's templates use."""
        texts = [self.action, self.resource, self.why]
        texts += [text for c in self.context for text in (c.key, *c.values)]
        return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


def missing_fields(values: Mapping[str, str]) -> list[str]:
    return sorted(set(FIELDS) - set(values))


# --- ARN templates ------------------------------------------------------------------------------------------
def arn(service: str, resource: str) -> str:
    """A regional ARN of this account: ``arn:{partition}:<service>:{region}:{account}:<resource>``."""
    return f"arn:{{partition}}:{service}:{{region}}:{{account}}:{resource}"


def bucket(name: str) -> str:
    return f"arn:{{partition}}:s3:::{name}"


def role(kind: str) -> str:
    return f"arn:{{partition}}:iam::{{account}}:role/{{role_{kind}}}"


def passed_to(service: str) -> tuple[Context, ...]:
    """The context of `iam:PassRole`: the service principal the role is passed to."""
    return (Context("iam:PassedToService", (service,)),)


def pass_role(kind: str, service: str, why: str) -> Need:
    """`iam:PassRole` of a role of the family to the service that will assume it."""
    return Need("iam:PassRole", role(kind), why, passed_to(service))


SAGEMAKER_TAG_KEYS = Context("aws:TagKeys", ("sagemaker:project-name", "sagemaker:project-id"), STRING_LIST)
PROJECT_TAGS = (
    SAGEMAKER_TAG_KEYS,
    Context("aws:RequestTag/sagemaker:project-name", ("{project_name}",)),
    Context("aws:RequestTag/sagemaker:project-id", ("{project_id}",)),
)
TAGGED_CONNECTION = Context("aws:ResourceTag/sagemaker", ("true",))
# What the product's stack tags its resources with (SageMaker's project tags), as a resource tag of a request.
PROJECT_RESOURCE = (Context("aws:ResourceTag/sagemaker:project-name", ("{project_name}",)),)
