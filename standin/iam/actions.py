"""What IAM authorises for one API request: its actions, the ARN of the resource each is on, and the
condition keys the request carries, read the way AWS's services read them.

The action is the service's IAM prefix and the operation's name, except where a service names it otherwise
(S3's REST operations, Lambda's `Invoke`). The resource ARN follows the formats IAM's service authorization
reference gives per action (policy_sentry's database of it): each `${Field}` is filled from the request's
members (`ProjectName`, `Bucket`, a member holding the ARN itself...), SageMaker's names lower-cased as its
ARNs are; an action IAM documents without resource types is on `*`. A request that passes a role to a
service also needs `iam:PassRole` on that role (with `iam:PassedToService`), as AWS checks it; a request
that tags carries the `aws:RequestTag/...` and `aws:TagKeys` keys.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# IAM prefixes that differ from the request's signing name.
_PREFIXES = {"monitoring": "cloudwatch", "runtime.sagemaker": "sagemaker", "execute-api": "execute-api"}
# Operations whose IAM action has another name.
_ACTION_NAMES = {("lambda", "Invoke"): "InvokeFunction", ("lambda", "InvokeAsync"): "InvokeAsync"}
# Operations AWS answers for any authenticated caller, whatever its policies say.
UNCHECKED = {"sts:GetCallerIdentity"}
# Members naming a role the request hands to the service (which then acts as it).
_ROLE_MEMBERS = ("RoleArn", "RoleARN", "roleArn", "serviceRole", "Role", "ExecutionRoleArn")
# Aliases of a format's `${Field}` among a request's members, by service ("" for every service).
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "": {"BucketName": ("Bucket",), "ObjectName": ("Key",)},
    "codebuild": {"ProjectName": ("projectName", "name", "names", "ids", "project")},
    "codepipeline": {"PipelineName": ("pipelineName", "name")},
    "events": {"RuleName": ("Name", "Rule")},
    "iam": {"RoleNameWithPath": ("RoleName",), "PolicyNameWithPath": ("PolicyArn",)},
}
_FIELD = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Access:
    """One action on one resource, with the condition keys the request supplies for it."""

    action: str
    resource: str = "*"
    context: Mapping[str, list[str]] = field(default_factory=dict)


@functools.lru_cache(maxsize=2048)
def arn_formats(action: str) -> tuple[str, ...]:
    """The resource ARN formats IAM documents for ``action`` (empty: it takes no resource, or is unknown)."""
    from policy_sentry.querying.actions import get_action_data

    prefix, name = action.split(":", 1)
    rows = (get_action_data(prefix, name) or {}).get(prefix, [])
    return tuple(dict.fromkeys(r["resource_arn_format"] for r in rows if r["resource_arn_format"] != "*"))


def _arn_pattern(arn_format: str, region: str, account: str) -> re.Pattern[str]:
    fixed = (
        arn_format.replace("${Partition}", "aws").replace("${Region}", region).replace("${Account}", account)
    )
    parts = re.split(r"(\$\{[^}]+\})", fixed)
    return re.compile("".join(".+" if _FIELD.fullmatch(p) else re.escape(p) for p in parts))


def _members(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """A request's string members (and lists of strings), keyed by name without case."""
    found: dict[str, list[str]] = {}
    for name, value in params.items():
        if isinstance(value, str) and value:
            found.setdefault(name.lower(), [value])
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            found.setdefault(name.lower(), list(value))
    return found


def _value(service: str, name: str, members: Mapping[str, list[str]], operation: str) -> str | None:
    candidates = (name, *_ALIASES.get("", {}).get(name, ()), *_ALIASES.get(service, {}).get(name, ()))
    if name.endswith("Id") and name[:-2] in operation:  # DescribeProduct's Id is the ProductId
        candidates = (*candidates, "Id")
    for candidate in candidates:
        values = members.get(candidate.lower())
        if values:
            value = values[0]
            if service == "codebuild" and ":" in value and not value.startswith("arn:"):
                value = value.split(":", 1)[0]  # a build id is <project>:<uuid>
            return value
    return None


# Fields of a format that name what AWS itself generates (a stack's id): a new resource's ARN has `*` there.
_GENERATED = ("Id", "RandomString")


def resource_arn(action: str, operation: str, params: Mapping[str, Any], region: str, account: str) -> str:
    """The ARN ``action`` is authorised on for this request; `*` when IAM documents none for it."""
    formats = arn_formats(action)
    if not formats:
        return "*"
    service = action.split(":", 1)[0]
    members = _members(params)
    for arn_format in formats:  # a member already holding a matching ARN
        wanted = _arn_pattern(arn_format, region, account)
        for values in members.values():
            if values[0].startswith("arn:") and wanted.fullmatch(values[0]):
                return values[0]
    for arn_format in formats:
        filled = arn_format.replace("${Partition}", "aws").replace("${Region}", region)
        filled = filled.replace("${Account}", account)
        missing = False

        def fill(match: re.Match[str]) -> str:
            nonlocal missing
            value = _value(service, match.group(1), members, operation)
            if value is None and match.group(1) in _GENERATED:
                return "*"
            if value is None:
                missing = True
                return ""
            if value.startswith("arn:"):
                value = value.split("/", 1)[-1] if "/" in value else value.rsplit(":", 1)[-1]
            return value.lower() if service == "sagemaker" else value

        arn = _FIELD.sub(fill, filled)
        if not missing:
            return arn
    return "*"


def _tags(params: Mapping[str, Any]) -> dict[str, str]:
    tags = params.get("Tags") or params.get("tags")
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, list):
        pairs = (
            (t.get("Key", t.get("key")), t.get("Value", t.get("value", "")))
            for t in tags
            if isinstance(t, dict)
        )
        return {str(k): str(v) for k, v in pairs if k is not None}
    keys = {k: v for k, v in params.items() if re.fullmatch(r"Tags\.member\.\d+\.Key", str(k))}
    return {v: str(params.get(k[: -len("Key")] + "Value", "")) for k, v in keys.items()}


def tag_context(params: Mapping[str, Any]) -> dict[str, list[str]]:
    tags = _tags(params)
    if not tags:
        return {}
    return {"aws:TagKeys": list(tags), **{f"aws:RequestTag/{k}": [v] for k, v in tags.items()}}


def _passed_roles(service: str, params: Mapping[str, Any]) -> Iterator[str]:
    for name in _ROLE_MEMBERS:
        value = params.get(name)
        if isinstance(value, str) and ":iam::" in value and ":role/" in value:
            yield value
    for target in params.get("Targets") or []:
        if isinstance(target, dict) and isinstance(target.get("RoleArn"), str):
            yield target["RoleArn"]


def accesses(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    region: str,
    account: str,
) -> list[Access]:
    """Every action a request of ``service``'s ``operation`` needs, with its resource and context keys."""
    prefix = _PREFIXES.get(service, service)
    action = f"{prefix}:{_ACTION_NAMES.get((service, operation), operation)}"
    if action in UNCHECKED:
        return []
    needs = [Access(action, resource_arn(action, operation, params, region, account), tag_context(params))]
    if service != "sts":
        for role in _passed_roles(service, params):
            passed = {"iam:PassedToService": [f"{prefix}.amazonaws.com"]}
            needs.append(Access("iam:PassRole", role, passed))
    return needs
