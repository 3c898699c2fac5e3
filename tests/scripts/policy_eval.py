"""A small evaluator of resource-policy Deny/Allow statements, for the tests that must know who a bucket
policy refuses (the stand-in's S3 ignores principals and `aws:PrincipalArn`).

It knows what this project's policies use and refuses anything else: `Principal` "*", `{"AWS": …}` or
`{"Service": …}`; `Action`/`Resource` with `*` and `?` wildcards (case-insensitive actions, as IAM); the
operators `ArnLike`, `ArnNotLike`, `StringEquals`, `StringEqualsIgnoreCase` and `Bool`, where a negated
operator holds when the key is absent and any other does not (AWS's documented rule). An unknown operator
raises, so a test never passes on a statement it did not understand. One simplification: ARN wildcards
match across `:` here (IAM matches each ARN segment apart); the ARNs tested carry no wildcard in the
account or service segments.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, context: dict[str, str]) -> bool:
    if principal == "*":
        return True
    if "Service" in principal:
        return context.get("service") in _list(principal["Service"])
    if "AWS" in principal:
        return any(p == "*" or p == context.get("aws:PrincipalArn") for p in _list(principal["AWS"]))
    raise ValueError(f"unknown principal {principal!r}")


OPERATORS = {
    "ArnLike": (False, lambda actual, pattern: fnmatchcase(actual, pattern)),
    "ArnNotLike": (True, lambda actual, pattern: fnmatchcase(actual, pattern)),
    "StringEquals": (False, lambda actual, value: actual == value),
    "StringEqualsIgnoreCase": (False, lambda actual, value: actual.lower() == value.lower()),
    "Bool": (False, lambda actual, value: actual.lower() == value.lower()),
}


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, block in condition.items():
        if operator not in OPERATORS:
            raise ValueError(f"the test evaluator does not know the operator {operator}")
        negated, compare = OPERATORS[operator]
        for key, values in block.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            if actual is None:
                if not negated:
                    return False
                continue
            matched = any(compare(actual, str(value)) for value in _list(values))
            if matched == negated:
                return False
    return True


def matching(
    policy: dict[str, Any], effect: str, action: str, resource: str, context: dict[str, str]
) -> list:
    """The statements of `effect` that apply to this request."""
    found = []
    for statement in _list(policy["Statement"]):
        if statement["Effect"] != effect:
            continue
        if "Principal" in statement and not _principal_matches(statement["Principal"], context):
            continue
        if not any(fnmatchcase(action.lower(), a.lower()) for a in _list(statement.get("Action", []))):
            continue  # (a NotAction statement is not judged here)
        if "NotResource" in statement:
            if any(fnmatchcase(resource, r) for r in _list(statement["NotResource"])):
                continue
        elif not any(fnmatchcase(resource, r) for r in _list(statement["Resource"])):
            continue
        if _condition_holds(statement.get("Condition", {}), context):
            found.append(statement)
    return found
