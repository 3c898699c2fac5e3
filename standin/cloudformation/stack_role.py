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

from standin.iam.policy_evaluation import ALLOWED, EXPLICIT_DENY, Request, evaluate
from standin.iam.policy_simulator import role_documents

FUNCTION = "AWS::Lambda::Function"
SESSION = "servicecatalog"  # the session name Service Catalog gives the launch role it assumes


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
    documents = role_documents(stack.account_id, role_arn)
    partition = role_arn.split(":")[1]
    principal = (
        f"arn:{partition}:sts::{stack.account_id}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{SESSION}"
    )
    where = f"arn:{partition}:lambda:{stack.region_name}:{stack.account_id}:function"
    for name, action in calls:
        function = stack.resource_map._parsed_resources.get(name)
        arn = getattr(function, "function_arn", None) or f"{where}:*"
        decision = evaluate(documents, Request(action, arn)).decision
        if decision == ALLOWED:
            continue
        why = (
            "with an explicit deny in an identity-based policy"
            if decision == EXPLICIT_DENY
            else f"because no identity-based policy allows the {action} action"
        )
        return name, (
            f'Resource handler returned message: "User: {principal} is not authorized to perform: {action} '
            f'on resource: {arn} {why} (Service: Lambda, Status Code: 403, Request ID: {uuid.uuid4()})" '
            f"(RequestToken: {uuid.uuid4()}, HandlerErrorCode: AccessDenied)"
        )
    return None
