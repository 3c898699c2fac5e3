"""The permission table against what it describes: the shipped templates' resource properties, cfn-lint's
resource schemas (the handler permissions CloudFormation's resource providers declare), and policy_sentry's
IAM database (action names and resource ARN formats)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import cfnlint
import pytest
from cfn_flip import load_yaml
from policy_sentry.querying.actions import get_action_data

from generator import constants as c
from permissions import FAMILY_KINDS, FIELDS, KINDS, STUDIO, Need, needs
from permissions.resources import DEPLOY_RESOURCES, PRODUCT_RESOURCES, RESOURCE_TYPES, resource_needs
from scripts import iam_roles
from scripts.permission_check import field_values
from seeding import function as seeding_function

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "templates").glob("*.yaml")) + [
    ROOT / "seedcode/modeldeploy/endpoint-config-template.yml"
]
SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"
CONNECTION_PREFIXES = ("codestar-connections", "codeconnections")
EXAMPLE = {field: f"example-{field.replace('_', '-')}" for field in FIELDS} | {
    "partition": "aws",
    "region": "eu-west-1",
    "account": "123456789012",
    "role_CodeBuild": "service-role/AmazonSageMakerServiceCatalogProductsCodeBuildRole",
    "servicecatalog_template": "servicecatalog-bucket/provisioning/template.json",
}
CONNECTION = "arn:aws:{}:eu-west-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"


def all_needs() -> list[tuple[str, Need]]:
    return [(kind, need) for kind in KINDS for need in needs(kind)]


def rendered(need: Need) -> list[Need]:
    """The need for each connection prefix its action may take, fields filled with example values."""
    return [
        need.render(EXAMPLE | {"connections": prefix, "connection": CONNECTION.format(prefix)})
        for prefix in CONNECTION_PREFIXES
    ]


def used_properties() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for path in SHIPPED:
        for resource in load_yaml(path.read_text())["Resources"].values():
            used.setdefault(resource["Type"], set()).update(resource.get("Properties") or {})
    return used


@cache
def handler_permissions(resource_type: str) -> set[str] | None:
    """Every permission the type's resource provider declares (all its handlers), or None."""
    index = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    schema = json.loads((SCHEMAS / "resources" / f"{index[resource_type]}.json").read_text())
    handlers = schema.get("handlers") or {}
    if not handlers:
        return None
    return {p for handler in handlers.values() for p in handler.get("permissions", [])}


def test_the_kinds_are_the_contracts_and_bootstraps() -> None:
    assert FAMILY_KINDS == ("Launch", *c.ROLE_KINDS) == iam_roles.KINDS
    assert (*FAMILY_KINDS, STUDIO) == KINDS


@pytest.mark.parametrize("resource_type", sorted(used_properties()))
def test_every_property_the_templates_use_is_in_the_table(resource_type: str) -> None:
    assert resource_type in RESOURCE_TYPES, f"{resource_type}: add it to permissions.resources"
    missing = used_properties()[resource_type] - set(RESOURCE_TYPES[resource_type].properties)
    assert not missing, f"{resource_type}: properties {sorted(missing)} are not in permissions.resources"


def test_the_seeding_resources_properties_are_what_the_seeding_function_requires() -> None:
    """permissions/ imports nothing of the project, so it names the seeding custom resource's properties
    itself: they must stay the ones the function reads."""
    table = set(RESOURCE_TYPES["AWS::CloudFormation::CustomResource"].properties) - {"ServiceToken"}
    assert table == set(seeding_function.REQUIRED)


def test_every_type_a_stack_makes_is_in_the_table_and_in_a_template() -> None:
    made = {m.type for m in PRODUCT_RESOURCES + DEPLOY_RESOURCES}
    assert made == set(RESOURCE_TYPES) == set(used_properties())


@pytest.mark.parametrize("resource_type", sorted(RESOURCE_TYPES))
def test_a_types_actions_are_what_its_resource_provider_declares(resource_type: str) -> None:
    kind = RESOURCE_TYPES[resource_type]
    actions = {
        n.action.replace("{connections}", "codestar-connections")
        for n in kind.lifecycle
        + tuple(
            n for props in (kind.properties, kind.own_launch_role) for needs in props.values() for n in needs
        )
    }
    declared = handler_permissions(resource_type)
    if (
        declared is None
    ):  # a type without a registry schema (CodeBuild projects, custom resources): none to check
        assert resource_type in ("AWS::CodeBuild::Project", "AWS::CloudFormation::CustomResource")
        return
    assert actions <= declared, f"{resource_type}: {sorted(actions - declared)} are not in its handlers"


def _format_regex(arn_format: str) -> re.Pattern[str]:
    """policy_sentry's `arn:${Partition}:s3:::${BucketName}` (or `s3:ExistingObjectTag/<key>`) as a regular
    expression, each variable any text."""
    parts = re.split(r"\$\{[^}]+\}|<[^>]+>", arn_format)
    return re.compile(".+".join(re.escape(part) for part in parts))


@pytest.mark.parametrize(
    ("kind", "need"),
    [pytest.param(k, n, id=f"{k}-{n.action}-{i}") for i, (k, n) in enumerate(all_needs())],
)
def test_actions_and_arns_agree_with_policy_sentry(kind: str, need: Need) -> None:
    for filled in rendered(need):
        service, name = filled.action.split(":", 1)
        entries = get_action_data(service, name).get(service) or []
        spelled = {e["action"] for e in entries}
        assert filled.action in spelled, f"{kind}: {filled.action} is not an IAM action ({sorted(spelled)})"
        formats = {e["resource_arn_format"] for e in entries}
        if filled.resource == "*":
            assert "*" in formats, f"{kind}: {filled.action} takes a resource, one of {sorted(formats)}"
            continue
        assert any(f != "*" and _format_regex(f).fullmatch(filled.resource) for f in formats), (
            f"{kind}: {filled.resource} is none of {filled.action}'s ARN formats {sorted(formats)}"
        )
        keys = {k for e in entries for k in e["condition_keys"]}
        for ctx in filled.context:
            known = (
                ctx.key in keys
                or ctx.key.startswith("aws:")
                or any(_format_regex(k).fullmatch(ctx.key) for k in keys)
            )
            assert known, f"{kind}: {filled.action} carries no condition key {ctx.key}"


def test_every_field_is_used_and_described() -> None:
    used = set().union(*(n.fields() for _, n in all_needs()))
    assert used == set(FIELDS)


def test_pass_role_names_the_service_principal() -> None:
    for kind, need in all_needs():
        if need.action == "iam:PassRole":
            (ctx,) = need.context
            assert ctx.key == "iam:PassedToService"
            assert [re.fullmatch(r"[a-z]+\.amazonaws\.com", v) is not None for v in ctx.values] == [True], (
                kind,
                need,
            )


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("Launch", "s3:PutEncryptionConfiguration"),
        ("Launch", "s3:PutBucketLogging"),
        ("Launch", "s3:GetObject"),
        ("CodeBuild", "sagemaker:ListTags"),
        ("CodeBuild", "sagemaker:DescribeEndpoint"),
        ("CodeBuild", "sagemaker:InvokeEndpoint"),
        ("CloudFormation", "sagemaker:CreateEndpoint"),
        ("Events", "codepipeline:StartPipelineExecution"),
    ],
)
def test_the_calls_the_walkthrough_is_known_to_make_are_listed(kind: str, action: str) -> None:
    assert action in {n.action for n in needs(kind)}


def test_a_role_property_passes_its_role_to_its_service() -> None:
    passes = {
        (n.resource, n.context[0].values[0])
        for made in PRODUCT_RESOURCES
        for n in resource_needs(made)
        if n.action == "iam:PassRole"
    }
    assert passes == {
        ("arn:{partition}:iam::{account}:role/{role_CodeBuild}", "codebuild.amazonaws.com"),
        ("arn:{partition}:iam::{account}:role/{role_CodePipeline}", "codepipeline.amazonaws.com"),
        ("arn:{partition}:iam::{account}:role/{role_Events}", "events.amazonaws.com"),
        ("arn:{partition}:iam::{account}:role/{role_Lambda}", "lambda.amazonaws.com"),
    }


# What Studio attaches to each role of the service-catalog family: AWS's managed policies, as moto ships them.
MANAGED = {
    "Launch": "AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy",
    "CodeBuild": "AmazonSageMakerServiceCatalogProductsCodeBuildServiceRolePolicy",
    "CodePipeline": "AmazonSageMakerServiceCatalogProductsCodePipelineServiceRolePolicy",
    "Events": "AmazonSageMakerServiceCatalogProductsEventsServiceRolePolicy",
    "Lambda": "AmazonSageMakerServiceCatalogProductsLambdaServiceRolePolicy",
    "CloudFormation": "AmazonSageMakerServiceCatalogProductsCloudformationServiceRolePolicy",
    "Execution": "AmazonSageMakerFullAccess",
    STUDIO: "AmazonSageMakerFullAccess",
}
# A data scientist whose Studio role carries only AmazonSageMakerFullAccess can neither answer the deploy
# pipeline's manual approval (`deploy promote`) nor clean up what `project delete` removes besides the
# project: the deploy stacks, the retained bucket and its versions, the access logs, the log groups and job
# streams, the rule it disables and the pipeline executions it stops.
MANAGED_LACKS = {
    STUDIO: {
        "codepipeline:GetPipelineState",
        "codepipeline:PutApprovalResult",
        "codepipeline:StopPipelineExecution",
        "events:DescribeRule",
        "events:DisableRule",
        "cloudformation:DescribeStacks",
        "cloudformation:DeleteStack",
        "s3:GetBucketTagging",
        "s3:ListBucketVersions",
        "s3:DeleteObjectVersion",
        "s3:DeleteBucket",
        "logs:DeleteLogGroup",
        "logs:DeleteLogStream",
    }
}


@pytest.mark.parametrize("kind", sorted(MANAGED))
def test_aws_managed_policies_allow_the_table_with_the_context_it_gives(kind: str) -> None:
    """Evaluated as IAM does, with the table's resource ARNs and context keys (the condition keys AWS's
    policies ask for: connection and resource tags, tag keys, PassedToService, the template copy's tag)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    from standin.iam.policy_evaluation import ALLOWED, Request, evaluate

    document = json.loads(aws_managed_policies_data)[MANAGED[kind]]["Document"]
    account = SimpleNamespace(account="123456789012", region="eu-west-1", partition="aws")
    paths = {k: f"service-role/{c.role_name('service-catalog', k)}" for k in FAMILY_KINDS}
    keys = ["seedcode/modelbuild-0123456789abcdef.zip", "seeding/bootstrap-0123456789abcdef.zip"]
    values = field_values(account, paths, product_id=None, connection_arn=None, asset_keys=keys)  # type: ignore[arg-type]
    refused = set()
    for need in needs(kind):
        for filled in rendered(
            need.render({**values, "connections": "{connections}", "connection": "{connection}"})
        ):
            context = {ctx.key: list(ctx.values) for ctx in filled.context}
            if evaluate([document], Request(filled.action, filled.resource, context)).decision != ALLOWED:
                refused.add(filled.action)
    assert refused == MANAGED_LACKS.get(kind, set())
