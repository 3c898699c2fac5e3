"""What CloudFormation's calls for one resource need of the stack's role, checked as IAM checks them.

CloudFormation creates a resource with the calls its type's handler makes (the type's create, read and tag
calls, and one more per property, e.g. `s3:PutBucketLogging` for a bucket's `LoggingConfiguration`), as the
stack's role: a launch constraint's role, a stack's `RoleARN`, or a pipeline action's `RoleArn`. The table of
those calls is `permissions.resources`; a type it does not list is not checked. A refused call fails the
resource with the handler's message, as CloudFormation reports it in the resource's CREATE_FAILED event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from moto.cloudformation.models import Stack

from permissions.needs import Need
from permissions.resources import RESOURCE_TYPES
from standin.cloudformation.stack_role import SESSION, handler_message
from standin.dispatch import AwsError
from standin.iam.authorization import Principal, check, principal_for_role

CLOUDFORMATION_SESSION = "AWSCloudFormation"
# Types whose calls are on what a property names, not on the resource's own physical id.
_NAMED_BY = {"AWS::S3::BucketPolicy": "Bucket", "AWS::CloudFormation::CustomResource": "ServiceToken"}
_CREATING = ("Update", "Delete")  # lifecycle calls that belong to an update or a deletion, not to a create
_SERVICES = {"s3": "S3", "codebuild": "CodeBuild", "codepipeline": "CodePipeline", "events": "EventBridge",
             "lambda": "Lambda", "sagemaker": "SageMaker", "iam": "Iam", "kms": "Kms"}  # fmt: skip


def stack_principal(stack: Stack) -> Principal | None:
    """The role a stack's resources are made as; None when the stack has none (the caller's own rights)."""
    if not stack.role_arn:
        return None
    session = SESSION if stack.name.startswith("SC-") else CLOUDFORMATION_SESSION
    return principal_for_role(stack.account_id, stack.role_arn, session)


def _name(physical: str) -> str:
    """The name in a physical id (an ARN's last path segment, or the id itself)."""
    if physical.startswith("arn:"):
        return re.split(r"[/:]", physical.split(":", 5)[5])[-1]
    return physical


def _role(value: Any) -> str:
    return str(value).split(":role/", 1)[1] if isinstance(value, str) and ":role/" in value else "*"


def _fill(text: str, fields: Mapping[str, str]) -> str | None:
    try:
        return text.format_map(dict(fields))
    except KeyError:
        return None


def _context(need: Need, fields: Mapping[str, str], tags: Mapping[str, str]) -> dict[str, list[str]]:
    """The condition keys the call carries: literal values as the table gives them, a request tag's value
    from the stack's tags (CloudFormation passes them on); a key whose value is unknown here is absent."""
    found: dict[str, list[str]] = {}
    for entry in need.context:
        if entry.key.startswith("aws:RequestTag/"):
            value = tags.get(entry.key.split("/", 1)[1])
            if value is not None:
                found[entry.key] = [value]
            continue
        values = [_fill(v, fields) for v in entry.values]
        if all(v is not None for v in values):
            found[entry.key] = [v for v in values if v is not None]
    return found


def refusal(
    stack: Stack, logical_id: str, resource_type: str, properties: Mapping[str, Any], physical: str
) -> str | None:
    """The CREATE_FAILED reason when the stack's role may not make this resource as its template says."""
    kind = RESOURCE_TYPES.get(resource_type)
    principal = stack_principal(stack) if kind is not None else None
    if kind is None or principal is None:
        return None
    needs = [n for n in kind.lifecycle if not n.action.split(":", 1)[1].startswith(_CREATING)]
    for prop in properties:
        needs += list({**kind.properties, **kind.own_launch_role}.get(prop, ()))
    role_value = next(
        (v for k, v in properties.items() if k in ("ServiceRole", "RoleArn", "Role", "ExecutionRoleArn")),
        None,
    )
    fields = {
        "partition": "aws",
        "region": stack.region_name,
        "account": stack.account_id,
        "name": _name(str(properties.get(_NAMED_BY.get(resource_type, ""), physical))),
        "role": _role(role_value),
        "connections": "codestar-connections",
    }
    tags = dict(stack.tags or {})
    for need in needs:
        resource = _fill(need.resource, fields)
        if resource is None:
            continue
        try:
            check(principal, need.action, resource, _context(need, fields, tags))
        except AwsError as error:
            service = _SERVICES.get(need.action.split(":", 1)[0], need.action.split(":", 1)[0])
            return handler_message(error, service)
    return None
