"""IAM's policy simulator as `sm-mlops preflight` calls it (moto does not answer it).

``SimulatePrincipalPolicy`` evaluates the role's own policies (inline and attached) the way the simulator does
when no context is given: a statement with a ``Condition`` does not apply, and the condition keys it needs are
reported in ``MissingContextValues``; an explicit Deny wins, then an Allow, else ``implicitDeny``.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any
from urllib.parse import unquote

from moto.backends import get_backend

from standin.dispatch import AwsError, Context, operation


def _members(params: dict, name: str) -> list[str]:
    values = [(k, v) for k, v in params.items() if k.startswith(f"{name}.member.")]
    return [v for _, v in sorted(values, key=lambda kv: int(kv[0].rsplit(".", 1)[1]))]


def _documents(ctx: Context, role_arn: str) -> list[dict]:
    return role_documents(ctx.account_id, role_arn)


def role_documents(account_id: str, role_arn: str) -> list[dict]:
    """The role's policy documents, inline and attached (NoSuchEntity when there is no such role)."""
    iam = get_backend("iam")[account_id]["aws"]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception as error:  # moto's NoSuchEntity and a malformed ARN alike
        raise AwsError("NoSuchEntity", f"The role with ARN {role_arn} cannot be found.", 404) from error
    texts = list(role.policies.values())
    texts += [policy.document for policy in role.managed_policies.values()]  # type: ignore[attr-defined]
    return [json.loads(unquote(text)) if isinstance(text, str) else text for text in texts]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _matches(patterns: list[str], value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for pattern in patterns)


def evaluate(documents: list[dict], action: str, resource: str) -> tuple[str, list[str]]:
    """The simulator's decision for one action on one resource, and the context keys it would have needed."""
    allowed, missing = False, set()
    for document in documents:
        statements = document.get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _matches(_listed(statement.get("Action")), action):
                continue
            if not _matches(_listed(statement.get("Resource")), resource):
                continue
            if statement.get("Condition"):
                missing |= {key for block in statement["Condition"].values() for key in block}
                continue
            if statement.get("Effect") == "Deny":
                return "explicitDeny", sorted(missing)
            allowed = True
    return ("allowed" if allowed else "implicitDeny"), sorted(missing)


@operation("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(ctx: Context, params: dict) -> dict:
    documents = _documents(ctx, params.get("PolicySourceArn", ""))
    actions = _members(params, "ActionNames")
    if not actions:
        raise AwsError("InvalidInput", "ActionNames must name at least one action.")
    results = []
    for action in actions:
        for resource in _members(params, "ResourceArns") or ["*"]:
            decision, missing = evaluate(documents, action, resource)
            result: dict[str, Any] = {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": decision,
            }
            if missing:
                result["MissingContextValues"] = missing
            results.append(result)
    return {"EvaluationResults": results, "IsTruncated": False}
