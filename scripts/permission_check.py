"""`preflight`'s permission check: each action of the permission table, simulated for the role making it.

Each role of the family and each Studio role is asked, through IAM's SimulatePrincipalPolicy, for each request
its steps make (`permissions.needs`), with the resource ARN and the condition keys that request carries; each
action a role is refused is named with the role, the resource and the call that needs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from generator import constants as c
from permissions import FAMILY_KINDS, STUDIO, Need, missing_fields, needs
from scripts.common import Aws
from scripts.projects import PLACEHOLDER_ID, Names
from scripts.servicecatalog import asset_bucket_name

EXAMPLE_PROJECT = "example"  # preflight runs before any project exists: names are built for this one
EXAMPLE_CONNECTION_ID = "00000000-0000-0000-0000-000000000000"
CFN_SUFFIX = (
    "0123456789ab"  # CloudFormation names a deploy stack's model and configuration <Logical>-<suffix>
)


@dataclass(frozen=True)
class Refusal:
    role: str  # the role's name
    action: str
    resources: tuple[str, ...]
    decision: str
    why: str
    missing_keys: tuple[str, ...]

    def detail(self) -> str:
        where = ", ".join(self.resources)
        text = f"{self.action} is refused ({self.decision}) on {where}; needed for: {self.why}"
        if self.missing_keys:
            text += f" (the policy also asks for context keys {', '.join(self.missing_keys)})"
        return text


def field_values(
    aws: Aws,
    role_paths: dict[str, str],
    *,
    product_id: str | None,
    connection_arn: str | None,
    asset_keys: Iterable[str],
) -> dict[str, str]:
    """The permission table's fields for this account and an example project (generator.constants' names)."""
    names = Names(EXAMPLE_PROJECT, PLACEHOLDER_ID)
    account, region, partition = aws.account, aws.region, aws.partition
    connection = connection_arn or (
        f"arn:{partition}:codeconnections:{region}:{account}:connection/{EXAMPLE_CONNECTION_ID}"
    )
    keys = list(asset_keys)
    product = product_id or "prod-" + "0" * 13
    values = {
        "partition": partition,
        "region": region,
        "account": account,
        "project_name": names.name,
        "project_id": names.id,
        "product_id": product,
        "product_stack": f"SC-{account}-pp-{CFN_SUFFIX}",
        # Service Catalog keeps its copy of the template in a bucket of its own: any name but sagemaker-*.
        "servicecatalog_template": f"servicecatalog-provisioning-{region}/{product}/template.json",
        "artifact_bucket": names.bucket,
        "asset_bucket": asset_bucket_name(account, region),
        "seed_key": next((k for k in keys if k.startswith("seedcode/")), "seedcode/modelbuild.zip"),
        "bootstrap_key": next((k for k in keys if k.startswith("seeding/")), "seeding/bootstrap.zip"),
        "modelbuild_project": names.resolve(c.MODELBUILD_PROJECT_NAME),
        "deploy_build_project": names.resolve(c.DEPLOY_BUILD_PROJECT_NAME),
        "deploy_test_project": names.resolve(c.DEPLOY_TEST_PROJECT_NAME),
        "checkin_project": names.resolve(c.CHECKIN_PROJECT_NAME),
        "modelbuild_pipeline": names.build_pipeline,
        "modeldeploy_pipeline": names.deploy_pipeline,
        "approval_stage": c.STAGING_STAGE,
        "approval_action": c.APPROVAL_ACTION,
        "deploy_rule": names.deploy_rule,
        "checkin_lambda": names.resolve(c.CHECKIN_LAMBDA_NAME),
        "code_repository_build": names.resolve(c.CODE_REPOSITORY_NAME[c.MODELBUILD]),
        "code_repository_deploy": names.resolve(c.CODE_REPOSITORY_NAME[c.MODELDEPLOY]),
        "sagemaker_pipeline": names.sagemaker_pipeline,
        "model_package_group": names.model_package_group,
        "staging_stack": names.deploy_stack("staging"),
        "prod_stack": names.deploy_stack("prod"),
        "staging_endpoint": names.endpoint("staging"),
        "prod_endpoint": names.endpoint("prod"),
        "model": f"Model-{CFN_SUFFIX}",
        "endpoint_config": f"EndpointConfig-{CFN_SUFFIX}",
        "connection": connection,
        "connections": connection.split(":")[2],
        "full_repository": "owner/repository",
    }
    values.update({f"role_{kind}": path for kind, path in role_paths.items()})
    return values


def role_path(role: dict[str, Any]) -> str:
    """A role's path and name as its ARN spells them after ``role/``: ``service-role/Name``."""
    return f"{role.get('Path', '/').strip('/')}/{role['RoleName']}".lstrip("/")


def _simulate(iam: Any, role_arn: str, batch: list[Need]) -> list[dict[str, Any]]:
    first = batch[0]
    entries = [
        {"ContextKeyName": ctx.key, "ContextKeyValues": list(ctx.values), "ContextKeyType": ctx.type}
        for ctx in first.context
    ]
    answer = iam.simulate_principal_policy(
        PolicySourceArn=role_arn,
        ActionNames=sorted({n.action for n in batch}),
        ResourceArns=[first.resource],
        ContextEntries=entries,
    )
    return list(answer.get("EvaluationResults", []))


def refusals(aws: Aws, role_arn: str, kind: str, values: dict[str, str]) -> tuple[int, list[Refusal]]:
    """How many requests the role's kind makes, and those its policies refuse (one per action)."""
    absent = missing_fields(values)
    if absent:
        raise ValueError(f"the permission check lacks the fields {absent}")
    rendered = [n.render(values) for n in needs(kind)]
    batches: dict[tuple, list[Need]] = {}
    for need in rendered:  # one call per resource and context, for all the actions on it
        batches.setdefault((need.resource, need.context), []).append(need)
    iam = aws.client("iam")
    denied: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for batch in batches.values():
        for result in _simulate(iam, role_arn, batch):
            if result.get("EvalDecision") != "allowed":
                action = result["EvalActionName"]
                why = next(n.why for n in batch if n.action == action)
                denied.setdefault(action, []).append((result, why))
    found = []
    for action, hits in denied.items():
        decisions = {r.get("EvalDecision", "implicitDeny") for r, _ in hits}
        found.append(
            Refusal(
                role=role_arn.rsplit("/", 1)[-1],
                action=action,
                resources=tuple(dict.fromkeys(r.get("EvalResourceName", "*") for r, _ in hits)),
                decision="explicitDeny" if "explicitDeny" in decisions else decisions.pop(),
                why=hits[0][1],
                missing_keys=tuple(sorted({k for r, _ in hits for k in r.get("MissingContextValues", [])})),
            )
        )
    return len(rendered), found


def check_permissions(
    aws: Aws,
    family_roles: dict[str, dict[str, Any]],
    studio_roles: list[str],
    values: dict[str, str],
    *,
    status: str = "problem",
) -> list[dict[str, str]]:
    """One row per role that makes all its requests, one per action a role is refused (``status``)."""
    targets = [(kind, family_roles[kind]["Arn"]) for kind in FAMILY_KINDS if kind in family_roles]
    targets += [(STUDIO, arn) for arn in studio_roles]
    rows = []
    for kind, arn in targets:
        name = arn.rsplit("/", 1)[-1]
        try:
            count, refused = refusals(aws, arn, kind, values)
        except ClientError as error:
            info = error.response.get("Error", {})
            rows.append(
                {
                    "check": f"permissions of {name}",
                    "status": "warning",
                    "detail": f"could not simulate: {info.get('Code')}: {info.get('Message', '')}"[:200],
                }
            )
            continue
        if not count:
            continue
        if not refused:
            rows.append(
                {"check": f"permissions of {name}", "status": "ok", "detail": f"{count} requests allowed"}
            )
        for refusal in refused:
            rows.append(
                {
                    "check": f"{refusal.role} may {refusal.action}",
                    "status": status,
                    "detail": refusal.detail(),
                }
            )
    return rows
