"""`bootstrap`: the Studio service roles of one family, each with the policies AWS gives it, and SageMaker
projects enabled.

The `AmazonSageMakerServiceCatalogProducts*` roles carry AWS's managed policies, attached by ARN, as Studio
attaches them (AWS's page "AWS Managed Policies for SageMaker projects and JumpStart"). The
`AmazonSageMakerProjects*` family has no managed policies of AWS's own: AWS publishes its policies as the same
documents with the family's role names, so `bootstrap` reads AWS's managed policy of each role from IAM and
writes the account's own copy with the family's role names (`AmazonSageMakerProjects<X>ServiceRolePolicy`).
Missing roles and policies are created; an existing role whose policies differ is reported and left as it is
(its owner may have hardened it) unless `--fix-policies` asks for AWS's set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from generator import constants as c
from permissions.trust import trust_policy
from scripts.common import Aws, BadInput, CommandError, is_not_found, paginate, progress

SERVICE_ROLE_PATH, FAMILY_PREFIX = c.SERVICE_ROLE_PATH, c.FAMILY_PREFIX
# Role kinds in the order they are created: the family's launch role, then those the template references.
KINDS = ("Launch", *c.ROLE_KINDS)
TRUSTED = {
    "Launch": ["servicecatalog.amazonaws.com"],
    "Use": [
        "cloudformation.amazonaws.com",
        "codebuild.amazonaws.com",
        "codepipeline.amazonaws.com",
        "events.amazonaws.com",
        "firehose.amazonaws.com",
        "glue.amazonaws.com",
        "lambda.amazonaws.com",
        "sagemaker.amazonaws.com",
        "states.amazonaws.com",
    ],
    "CodeBuild": ["codebuild.amazonaws.com"],
    "CodePipeline": ["codepipeline.amazonaws.com"],
    "Events": ["events.amazonaws.com"],
    "Lambda": ["lambda.amazonaws.com"],
    "CloudFormation": ["cloudformation.amazonaws.com"],
    "Execution": ["sagemaker.amazonaws.com"],
}
# AWS's managed policy of each role of the service-catalog family, as its path and name under
# arn:<partition>:iam::aws:policy/ (the CodeBuild role's has no service-role/ path, unlike its neighbours').
AWS_POLICIES: dict[str, tuple[str, ...]] = {
    "Launch": ("AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy",),
    "CodeBuild": ("AmazonSageMakerServiceCatalogProductsCodeBuildServiceRolePolicy",),
    "CodePipeline": ("service-role/AmazonSageMakerServiceCatalogProductsCodePipelineServiceRolePolicy",),
    "Events": ("service-role/AmazonSageMakerServiceCatalogProductsEventsServiceRolePolicy",),
    "Lambda": ("service-role/AmazonSageMakerServiceCatalogProductsLambdaServiceRolePolicy",),
    "CloudFormation": ("service-role/AmazonSageMakerServiceCatalogProductsCloudformationServiceRolePolicy",),
    "Execution": ("AmazonSageMakerFullAccess",),
}
# The Use role stands in for each service role a template may give it, so it carries each of their policies.
AWS_POLICIES["Use"] = tuple(
    p
    for k in ("CodeBuild", "CodePipeline", "Events", "Lambda", "CloudFormation", "Execution")
    for p in AWS_POLICIES[k]
)
# Policies that name no role family: either family attaches AWS's own.
FAMILY_NEUTRAL = {"AmazonSageMakerFullAccess"}
SOURCE_FAMILY = "service-catalog"
# How AWS's documents name the service-catalog family's roles: each is rewritten for another family.
FAMILY_NAMES = ("AmazonSageMakerServiceCatalogProducts", "AmazonSageMakerServiceCatalog*")


def role_name(family: str, kind: str) -> str:
    if family not in FAMILY_PREFIX:
        raise BadInput(
            f"unknown role family {family!r}", field="--role-family", fix=f"use one of {list(FAMILY_PREFIX)}"
        )
    return c.role_name(family, kind)


def role_arn(partition: str, account: str, family: str, kind: str) -> str:
    return f"arn:{partition}:iam::{account}:role{SERVICE_ROLE_PATH}{role_name(family, kind)}"


# --- the policies of each role ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """One managed policy a role carries: AWS's (``document`` None: attached as it is) or the account's own
    copy of AWS's for another role family (``document``: what `bootstrap` writes)."""

    arn: str
    name: str
    document: dict[str, Any] | None = None


def wildcard_actions(document: dict[str, Any]) -> list[str]:
    """The `*` or `service:*` actions (and NotAction) an Allow statement of ``document`` grants."""
    found = []
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            found.append(f"NotAction {statement['NotAction']}")
        actions = statement.get("Action", [])
        found += [
            a for a in ([actions] if isinstance(actions, str) else actions) if a == "*" or a.endswith(":*")
        ]
    return found


def for_family(document: dict[str, Any], family: str) -> dict[str, Any]:
    """AWS's document of a service-catalog role with the role names of ``family`` (actions unchanged)."""
    if family == SOURCE_FAMILY:
        return document
    prefix = FAMILY_PREFIX[family]
    text = json.dumps(document, sort_keys=True)
    for name in FAMILY_NAMES:
        text = text.replace(name, prefix + ("*" if name.endswith("*") else ""))
    rewritten = dict(json.loads(text))
    granted = wildcard_actions(rewritten)
    if granted:  # never written: no policy of this project grants a whole service
        raise CommandError(f"AWS's policy for the {family} family would grant {granted}")
    return rewritten


def family_policy_name(source: str, family: str) -> str:
    """`AmazonSageMakerProjectsCodeBuildServiceRolePolicy` from AWS's service-catalog policy name."""
    name = source.rsplit("/", 1)[-1]
    return name.replace("ServiceCatalogProducts", FAMILY_PREFIX[family].removeprefix("AmazonSageMaker"))


def aws_document(iam: Any, arn: str) -> dict[str, Any]:
    """The default version's document of a managed policy, as IAM answers it."""
    try:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    except ClientError as error:
        if is_not_found(error):
            raise CommandError(
                f"IAM has no managed policy {arn}",
                fix="check the partition and region: AWS's SageMaker projects policies exist in every "
                "commercial region",
            ) from None
        raise
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return dict(json.loads(document) if isinstance(document, str) else document)


def wanted_policies(aws: Aws, family: str, kind: str) -> list[Policy]:
    """The managed policies the role carries, as AWS gives them to its family."""
    role_name(family, kind)  # a known family
    out = []
    for source in AWS_POLICIES[kind]:
        arn = f"arn:{aws.partition}:iam::aws:policy/{source}"
        name = source.rsplit("/", 1)[-1]
        if family == SOURCE_FAMILY or name in FAMILY_NEUTRAL:
            out.append(Policy(arn, name))
            continue
        own = family_policy_name(source, family)
        document = for_family(aws_document(aws.client("iam"), arn), family)
        out.append(Policy(f"arn:{aws.partition}:iam::{aws.account}:policy/{own}", own, document))
    return out


def policy_documents(aws: Aws, family: str, kind: str) -> list[dict[str, Any]]:
    """The documents of the policies the role carries (what IAM evaluates for it)."""
    iam = aws.client("iam")
    return [p.document or aws_document(iam, p.arn) for p in wanted_policies(aws, family, kind)]


def ensure_policy(iam: Any, policy: Policy, *, dry_run: bool, fix: bool) -> str | None:
    """The account's own policy, created when missing; a note when it differs (replaced with ``fix``)."""
    if policy.document is None:
        return None
    try:
        current = aws_document(iam, policy.arn)
    except CommandError:
        if dry_run:
            return f"would create policy {policy.name}"
        iam.create_policy(
            PolicyName=policy.name,
            PolicyDocument=json.dumps(policy.document),
            Description="AWS's SageMaker projects policy for this role family (by sm-mlops bootstrap)",
        )
        return f"created policy {policy.name}"
    if current == policy.document:
        return None
    if not fix or dry_run:
        return f"policy {policy.name} differs from AWS's" + (" (would replace)" if fix else "")
    versions = iam.list_policy_versions(PolicyArn=policy.arn)["Versions"]
    if len(versions) >= 5:  # IAM keeps five versions: the oldest non-default one goes
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=policy.arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(
        PolicyArn=policy.arn, PolicyDocument=json.dumps(policy.document), SetAsDefault=True
    )
    return f"replaced policy {policy.name} with AWS's"


# --- the roles ----------------------------------------------------------------------------------------------


CREATED_BY = "(created by sm-mlops bootstrap)"


@dataclass
class RolePlan:
    name: str
    arn: str
    exists: bool
    ours: bool = False  # made by bootstrap: a run that stopped half-way is finished without being asked


def plan_roles(aws: Aws, family: str) -> list[RolePlan]:
    iam = aws.client("iam")
    plans = []
    for kind in KINDS:
        name = role_name(family, kind)
        try:
            role = iam.get_role(RoleName=name)["Role"]
            plans.append(RolePlan(name, role["Arn"], True, CREATED_BY in role.get("Description", "")))
        except ClientError as error:
            if not is_not_found(error):
                raise
            plans.append(RolePlan(name, role_arn(aws.partition, aws.account, family, kind), False))
    return plans


def policy_difference(iam: Any, name: str, wanted: list[Policy]) -> dict[str, list[str]]:
    """What an existing role carries besides, or lacks of, the wanted policies."""
    attached = {
        p["PolicyArn"]
        for p in paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
    }
    arns = {p.arn for p in wanted}
    return {
        "missing": sorted(arns - attached),
        "other managed": sorted(attached - arns),
        "inline": sorted(paginate(iam, "list_role_policies", "PolicyNames", RoleName=name)),
    }


def fix_role(iam: Any, name: str, difference: dict[str, list[str]]) -> None:
    for arn in difference["missing"]:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for arn in difference["other managed"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    for inline in difference["inline"]:
        iam.delete_role_policy(RoleName=name, PolicyName=inline)


def _describe(difference: dict[str, list[str]]) -> str:
    return "; ".join(f"{what}: {', '.join(items)}" for what, items in difference.items() if items)


def ensure_roles(
    aws: Aws, family: str, *, dry_run: bool = False, fix_policies: bool = False
) -> list[dict[str, str]]:
    """Create the family's missing roles with AWS's policies; report (or, with ``fix_policies``, fix) the
    policies of existing ones. One row per role with what happened."""
    iam = aws.client("iam")
    rows = []
    for kind, plan in zip(KINDS, plan_roles(aws, family), strict=True):
        wanted = wanted_policies(aws, family, kind)
        notes = [n for p in wanted if (n := ensure_policy(iam, p, dry_run=dry_run, fix=fix_policies))]
        policies = ", ".join(p.name for p in wanted)
        if not plan.exists:
            if dry_run:
                action = f"would create with {policies}"
            else:
                progress(f"  creating role {plan.name}")
                iam.create_role(
                    Path=SERVICE_ROLE_PATH,
                    RoleName=plan.name,
                    AssumeRolePolicyDocument=json.dumps(trust_policy(TRUSTED[kind])),
                    Description=f"SageMaker projects {kind} role {CREATED_BY}",
                )
                for policy in wanted:
                    iam.attach_role_policy(RoleName=plan.name, PolicyArn=policy.arn)
                iam.get_waiter("role_exists").wait(
                    RoleName=plan.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
                )
                action = f"created with {policies}"
        else:
            difference = policy_difference(iam, plan.name, wanted)
            if plan.ours and difference["missing"] and not dry_run:
                fix_role(
                    iam, plan.name, {"missing": difference["missing"], "other managed": [], "inline": []}
                )
                notes.append(f"attached {', '.join(difference['missing'])}")
                difference["missing"] = []
            if not any(difference.values()):
                action = "exists, policies as AWS gives them"
            elif not fix_policies:
                action = (
                    f"exists, unchanged; its policies differ from AWS's ({_describe(difference)}): "
                    "run bootstrap --fix-policies to make them AWS's"
                )
            elif dry_run:
                action = f"exists; would fix its policies ({_describe(difference)})"
            else:
                fix_role(iam, plan.name, difference)
                action = f"exists; fixed its policies ({_describe(difference)})"
        rows.append({"role": plan.name, "arn": plan.arn, "action": "; ".join([*notes, action])})
    return rows


def ensure_projects_enabled(aws: Aws, *, dry_run: bool = False) -> str:
    """Enable SageMaker projects (the Service Catalog portfolio) for the account unless already enabled."""
    sagemaker = aws.client("sagemaker")
    status = sagemaker.get_sagemaker_servicecatalog_portfolio_status()["Status"]
    if status == "Enabled":
        return "already enabled"
    if dry_run:
        return "would enable"
    sagemaker.enable_sagemaker_servicecatalog_portfolio()
    return "enabled"
