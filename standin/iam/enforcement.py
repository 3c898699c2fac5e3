"""The dispatch's one authorisation point: every API request a principal signs is checked against IAM before
a handler or moto answers it (unless the stand-in runs with ``--no-iam``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from standin.iam import actions, s3_actions
from standin.iam.authorization import Principal, check, principal_for_key

PARTITION = "aws"
# sagemaker-runtime's InvokeEndpoint, signed for "sagemaker" (whose botocore model is SageMaker's own).
_INVOCATION = re.compile(r"^/endpoints/([^/]+)/invocations$")


# Condition keys a service sets from its own state (Service Catalog's `servicecatalog:userLevel`): each
# provider gets (standin, account, region, operation, params, principal) and returns the keys it knows.
ContextProvider = Callable[[Any, str, str, str, Mapping[str, Any], Principal], dict[str, list[str]]]
_PROVIDERS: dict[str, ContextProvider] = {}


def context_keys(service: str) -> Callable[[ContextProvider], ContextProvider]:
    """Register the provider of ``service``'s own condition keys (imported with its handlers)."""

    def register(provider: ContextProvider) -> ContextProvider:
        _PROVIDERS[service] = provider
        return provider

    return register


def _with_paths(account_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """IAM's role and user ARNs carry their path: add ``RoleNameWithPath``/``UserNameWithPath`` members."""
    from moto.iam.models import iam_backends

    found = dict(params)
    iam = iam_backends[account_id][PARTITION]
    for kind, members in (("role", iam.roles.values()), ("user", iam.users.values())):
        name = params.get(f"{kind.capitalize()}Name")
        if not isinstance(name, str):
            continue
        entity = next((e for e in members if e.name == name), None)
        path = entity.path if entity is not None else str(params.get("Path") or "/")
        found[f"{kind.capitalize()}NameWithPath"] = f"{path.lstrip('/')}{name}"
    return found


def _object_tags(account_id: str, resource: str) -> dict[str, list[str]]:
    """``s3:ExistingObjectTag/<key>`` of an object that exists (what a GetObject condition reads)."""
    from moto.s3.models import s3_backends

    bucket_name, _, key = resource[len("arn:aws:s3:::") :].partition("/")
    backend = s3_backends[account_id][PARTITION]
    bucket = backend.buckets.get(bucket_name)
    found = bucket.keys.get(key) if bucket is not None and key else None
    if found is None:
        return {}
    tags = backend.tagger.get_tag_dict_for_resource(found.arn)
    return {f"s3:ExistingObjectTag/{k}": [v] for k, v in tags.items()}


def request_accesses(request: Any, operation: tuple[str, str, dict] | None, account_id: str) -> list:
    """The accesses one HTTP request needs; empty when it is no AWS operation the stand-in can name."""
    region = request.region or "us-east-1"
    if request.service == "s3":
        host = request.headers.get("host", "")
        pairs = s3_actions.s3_actions(request.method, request.path, host, request.query, request.headers)
        if pairs and pairs[0][0] == "s3:DeleteObject" and "delete" in request.query:
            bucket = pairs[0][1]
            pairs = [("s3:DeleteObject", f"{bucket}/{k}") for k in s3_actions.deleted_keys(request.body)]
        found = []
        for action, resource in pairs:
            context = _object_tags(account_id, resource) if action == "s3:GetObject" else {}
            prefix = request.query.get("prefix")
            if action == "s3:ListBucket" and prefix is not None:
                context["s3:prefix"] = [prefix]
            found.append(actions.Access(action, resource, context))
        return found
    invoked = _INVOCATION.match(request.path)
    if request.service == "sagemaker" and invoked:
        endpoint = f"arn:aws:sagemaker:{region}:{account_id}:endpoint/{invoked.group(1).lower()}"
        return [actions.Access("sagemaker:InvokeEndpoint", endpoint)]
    if operation is None or not request.service:
        return []
    name, _, params = operation
    params = _with_paths(account_id, params) if request.service == "iam" else params
    return actions.accesses(request.service, name, params, region, account_id)


def authorize_request(
    standin: Any, request: Any, operation: tuple[str, str, dict] | None, account_id: str, json_protocol: bool
) -> None:
    """Raise `AccessDenied` when IAM refuses the request's principal any action the request needs."""
    if not getattr(standin, "iam_enforced", True):
        return
    principal = principal_for_key(account_id, request.access_key)
    if principal is None:  # no key IAM knows: authentication answers that, not authorisation
        return
    provider = _PROVIDERS.get(request.service or "")
    extra: dict[str, list[str]] = {}
    if provider is not None and operation is not None:
        extra = provider(
            standin, account_id, request.region or "us-east-1", operation[0], operation[2], principal
        )
    for access in request_accesses(request, operation, account_id):
        check(principal, access.action, access.resource, {**access.context, **extra}, json_protocol)
