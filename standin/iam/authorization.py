"""IAM's decision on what a principal does: the one place the stand-in refuses what AWS would refuse.

The dispatch asks it for every API request (`enforcement.authorize_request`), with the action, resource and
condition keys `standin.iam.actions` reads from the request; the engines ask it (`authorize`, `check`) for
what they do in-process on a role's behalf (CloudFormation making a stack's resources as its role). A
principal's identity policies (inline, attached managed policies, and a user's groups') are evaluated with
`policy_evaluation`; for S3 the bucket's policy joins them as AWS joins a resource-based policy within one
account: an explicit Deny in either refuses, an Allow in either grants.

A refusal is AWS's `AccessDenied` (query and XML protocols) or `AccessDeniedException` (JSON protocols), in
IAM's documented words: ``User: <principal> is not authorized to perform: <action> on resource: <arn>
because no identity-based policy allows the <action> action`` (or ``with an explicit deny in an
identity-based policy``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from standin.dispatch import AwsError
from standin.iam.policy_evaluation import ALLOWED, EXPLICIT_DENY, Decision, PolicyError, Request, evaluate

PARTITION = "aws"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: the ARN IAM names in a refusal (a user, or an assumed role's session), the ARN
    policies name it by (the user, or the role), and its identity policy documents."""

    arn: str
    entity_arn: str
    documents: tuple[Mapping[str, Any], ...]


class AccessDenied(AwsError):
    """A request IAM refuses; ``json`` picks the JSON protocols' code."""

    def __init__(self, message: str, json_protocol: bool = True) -> None:
        super().__init__("AccessDeniedException" if json_protocol else "AccessDenied", message, 403)


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> Mapping[str, Any]:
    return json.loads(unquote(text)) if text.lstrip().startswith(("%", "{")) else json.loads(text)


def _document(value: Any) -> Mapping[str, Any]:
    return _parsed(value) if isinstance(value, str) else dict(value)


def _managed(policies: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    documents = []
    for policy in policies.values():
        default = next(v for v in policy.versions if v.version_id == policy.default_version_id)
        documents.append(_document(default.document))
    return documents


def _own_documents(entity: Any) -> list[Mapping[str, Any]]:
    return [_document(text) for text in entity.policies.values()] + _managed(entity.managed_policies)


def principal_for_key(account_id: str, access_key: str | None) -> Principal | None:
    """The principal an access key belongs to: an STS session's role, or an IAM user; None when IAM does not
    know the key (authentication refuses such keys before anything asks here)."""
    if not access_key:
        return None
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    iam = iam_backends[account_id][PARTITION]
    session = sts_backends[account_id][PARTITION].get_assumed_role_from_access_key(access_key)
    if session is not None:
        try:
            role = iam.get_role_by_arn(session.role_arn)
        except Exception:  # noqa: BLE001 - the role was deleted under its session: no policy allows anything
            return Principal(str(session.arn), str(session.role_arn), ())
        return Principal(str(session.arn), str(role.arn), tuple(_own_documents(role)))
    user = iam.get_user_from_access_key_id(access_key)
    if user is None:
        return None
    documents = _own_documents(user)
    for group in iam.get_groups_for_user(user.name):
        documents += _own_documents(group)
    return Principal(str(user.arn), str(user.arn), tuple(documents))


def principal_for_role(account_id: str, role_arn: str, session_name: str) -> Principal:
    """A role acting through a session of ``session_name`` (a service's own session of the role)."""
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[account_id][PARTITION].get_role_by_arn(role_arn)
    except Exception as error:
        raise AwsError("NoSuchEntity", f"The role with ARN {role_arn} cannot be found.", 404) from error
    session = f"arn:{PARTITION}:sts::{account_id}:assumed-role/{role.name}/{session_name}"
    return Principal(session, str(role.arn), tuple(_own_documents(role)))


def _bucket_policy(account_id: str, resource: str) -> Mapping[str, Any] | None:
    if not resource.startswith("arn:aws:s3:::"):
        return None
    from moto.s3.models import s3_backends

    name = resource[len("arn:aws:s3:::") :].split("/", 1)[0]
    bucket = s3_backends[account_id][PARTITION].buckets.get(name)
    policy = getattr(bucket, "policy", None)
    return _document(policy.decode() if isinstance(policy, bytes) else policy) if policy else None


def decide(principal: Principal, action: str, resource: str, context: Mapping[str, list[str]]) -> Decision:
    """IAM's decision for one action on one resource, identity and (for S3) bucket policies together."""
    context = {"aws:PrincipalArn": [principal.entity_arn], **context}
    identity = evaluate(principal.documents, Request(action, resource, context))
    if identity.decision == EXPLICIT_DENY:
        return identity
    bucket = (
        _bucket_policy(principal.entity_arn.split(":")[4], resource) if action.startswith("s3:") else None
    )
    if bucket is None:
        return identity
    who = {"AWS": principal.entity_arn}
    by_bucket = evaluate([bucket], Request(action, resource, context, principal=who))
    if by_bucket.decision == EXPLICIT_DENY:
        return Decision(EXPLICIT_DENY, by_bucket.matched, by_bucket.missing)
    return by_bucket if identity.decision != ALLOWED and by_bucket.decision == ALLOWED else identity


def refusal(principal: Principal, action: str, resource: str, decision: Decision) -> str:
    """IAM's words for a refused request."""
    head = f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}"
    if decision.decision != EXPLICIT_DENY:
        return f"{head} because no identity-based policy allows the {action} action"
    in_bucket = any("Principal" in s or "NotPrincipal" in s for s in decision.matched)
    return f"{head} with an explicit deny in {'a resource' if in_bucket else 'an identity'}-based policy"


def check(
    principal: Principal,
    action: str,
    resource: str,
    context: Mapping[str, list[str]] | None = None,
    json_protocol: bool = True,
) -> None:
    """Raise `AccessDenied` unless IAM allows ``principal`` ``action`` on ``resource``."""
    try:
        decision = decide(principal, action, resource, context or {})
    except PolicyError as error:
        raise AccessDenied(
            f"a policy of {principal.arn} cannot be evaluated: {error}", json_protocol
        ) from None
    if decision.decision != ALLOWED:
        raise AccessDenied(refusal(principal, action, resource, decision), json_protocol)


def authorize(
    account_id: str,
    principal_key: str,
    action: str,
    resource: str,
    context: Mapping[str, list[str]] | None = None,
) -> None:
    """The engines' check of what they do with ``principal_key`` (a session key of the role they act as)."""
    principal = principal_for_key(account_id, principal_key)
    if principal is None:
        raise AccessDenied(f"The security token {principal_key} is not one the stand-in's STS issued.")
    check(principal, action, resource, context)
