"""What CloudFormation may do as a Service Catalog stack's role (the launch role): updating a Lambda function.

An update that changes a function's `Code` calls `lambda:UpdateFunctionCode` as the launch role, one that
changes its other properties `lambda:UpdateFunctionConfiguration`. AWS's launch role for SageMaker projects
has neither, so such an update fails with Lambda's AccessDenied and the stack rolls back. The stand-in
refuses it before anything changes; the other calls a stack's role makes are not checked here.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.cloudformation.models import Stack

from standin.dispatch import AwsError
from standin.iam.authorization import check, principal_for_role

FUNCTION = "AWS::Lambda::Function"
SESSION = "servicecatalog"  # the session name Service Catalog gives the launch role it assumes


def handler_message(error: AwsError, service: str) -> str:
    """A refused call as CloudFormation reports a resource handler's failure in the resource's event."""
    return (
        f'Resource handler returned message: "{error.message} (Service: {service}, Status Code: 403, '
        f'Request ID: {uuid.uuid4()})" (RequestToken: {uuid.uuid4()}, HandlerErrorCode: AccessDenied)'
    )


def function_updates(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str]]:
    """(logical id, action) for each call an update from template `before` to `after` makes to a function."""
    old_resources = before.get("Resources") or {}
    calls = []
    for name, new in (after.get("Resources") or {}).items():
        old = old_resources.get(name) or {}
        if old.get("Type") != FUNCTION or new.get("Type") != FUNCTION:
            continue
        old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
        if old_props.get("Code") != new_props.get("Code"):
            calls.append((name, "lambda:UpdateFunctionCode"))
        settings = {key for key in {*old_props, *new_props} if key != "Code"}
        if any(old_props.get(key) != new_props.get(key) for key in settings):
            calls.append((name, "lambda:UpdateFunctionConfiguration"))
    return calls


def refusal(stack: Stack, template: dict[str, Any]) -> tuple[str, str] | None:
    """(logical id, reason) of the first function update the launch role may not make; None if it may all."""
    role_arn = stack.role_arn
    if not role_arn or not stack.name.startswith("SC-"):
        return None
    calls = function_updates(stack.template_dict, template)
    if not calls:
        return None
    principal = principal_for_role(stack.account_id, role_arn, SESSION)
    where = f"arn:{role_arn.split(':')[1]}:lambda:{stack.region_name}:{stack.account_id}:function"
    for name, action in calls:
        function = stack.resource_map._parsed_resources.get(name)
        arn = getattr(function, "function_arn", None) or f"{where}:*"
        try:
            check(principal, action, arn)
        except AwsError as error:
            return name, handler_message(error, "Lambda")
    return None
