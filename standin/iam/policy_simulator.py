"""IAM's policy simulator as `sm-mlops preflight` calls it (moto does not answer it).

``SimulatePrincipalPolicy`` evaluates the role's own policies, inline and attached (customer and AWS managed),
with `policy_evaluation` against the context entries the request gives; a condition key it does not give is
absent, and the keys the matching statements asked for are reported in ``MissingContextValues``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from moto.backends import get_backend

from standin.dispatch import AwsError, Context, operation
from standin.iam.policy_evaluation import PolicyError, Request, evaluate

CONTEXT_TYPES = (
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
)


def _members(params: dict, name: str) -> list[str]:
    prefix = f"{name}.member."
    values = [(k, v) for k, v in params.items() if k.startswith(prefix) and k[len(prefix) :].isdigit()]
    return [v for _, v in sorted(values, key=lambda kv: int(kv[0].rsplit(".", 1)[1]))]


def _context(params: dict) -> dict[str, list[str]]:
    """ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType}, each optional."""
    entries: dict[str, list[str]] = {}
    numbers = sorted({int(k.split(".")[2]) for k in params if k.startswith("ContextEntries.member.")})
    for n in numbers:
        base = f"ContextEntries.member.{n}"
        kind = params.get(f"{base}.ContextKeyType")
        if kind is not None and kind not in CONTEXT_TYPES:
            raise AwsError(
                "ValidationError",
                f"1 validation error detected: Value '{kind}' at 'contextEntries.{n}.member.contextKeyType' "
                "failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(CONTEXT_TYPES)}]",
            )
        name = params.get(f"{base}.ContextKeyName")
        if name:
            entries[name] = _members(params, f"{base}.ContextKeyValues")
    return entries


def _document(text: Any) -> dict:
    return json.loads(unquote(text)) if isinstance(text, str) else dict(text)


def role_documents(account_id: str, role_arn: str) -> list[dict]:
    """A role's inline policies and the default versions of the managed policies attached to it."""
    iam = get_backend("iam")[account_id]["aws"]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception as error:  # moto's NoSuchEntity and a malformed ARN alike
        raise AwsError("NoSuchEntity", f"The role with ARN {role_arn} cannot be found.", 404) from error
    documents = [_document(text) for text in role.policies.values()]
    for policy in role.managed_policies.values():
        default = next(v for v in policy.versions if v.version_id == policy.default_version_id)
        documents.append(_document(default.document))
    return documents


@operation("iam", "SimulatePrincipalPolicy")
def simulate_principal_policy(ctx: Context, params: dict) -> dict:
    documents = role_documents(ctx.account_id, params.get("PolicySourceArn", ""))
    actions = _members(params, "ActionNames")
    if not actions:
        raise AwsError("InvalidInput", "ActionNames must name at least one action.")
    context = _context(params)
    results = []
    for action in actions:
        for resource in _members(params, "ResourceArns") or ["*"]:
            try:
                decision = evaluate(documents, Request(action, resource, context))
            except PolicyError as error:
                raise AwsError(
                    "InvalidInput", f"a policy of the role cannot be evaluated: {error}"
                ) from error
            results.append(
                {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": decision.decision,
                    "MatchedStatements": [
                        {
                            "SourcePolicyType": "IAM Policy",
                            **({"SourcePolicyId": s["Sid"]} if "Sid" in s else {}),
                        }
                        for s in decision.matched
                    ],
                    "MissingContextValues": decision.missing,
                }
            )
    return {"EvaluationResults": results, "IsTruncated": False}
