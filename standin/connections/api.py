"""CodeConnections' API, answered under both of its names (``codestar-connections`` and ``codeconnections``):
create, get, list, delete, tag, untag, list tags."""

from __future__ import annotations

import re
import uuid

from standin.connections.state import Connection, lookup, store
from standin.dispatch import AwsError, Context, operation

PROVIDER_TYPES = ("Bitbucket", "GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged")
_NAME = re.compile(r"^[\s\S]{1,32}$")


def _tags(tags: list[dict] | None) -> dict[str, str]:
    out = {}
    for tag in tags or []:
        key, value = tag.get("Key"), tag.get("Value")
        if not key or value is None:
            raise AwsError("ValidationException", "Each tag needs a Key (1-128 characters) and a Value.")
        out[key] = value
    return out


@operation("codestar-connections", "CreateConnection")
@operation("codeconnections", "CreateConnection")
def create_connection(ctx: Context, params: dict) -> dict:
    name = params.get("ConnectionName") or ""
    if not _NAME.match(name):
        raise AwsError("ValidationException", "ConnectionName must be 1 to 32 characters long.")
    provider = params.get("ProviderType")
    host_arn = params.get("HostArn")
    if provider is None and host_arn is None:
        raise AwsError("ValidationException", "Give ProviderType (e.g. GitHub) or HostArn.")
    if provider is not None and provider not in PROVIDER_TYPES:
        raise AwsError(
            "ValidationException",
            f"ProviderType '{provider}' is not valid: use one of {', '.join(PROVIDER_TYPES)}.",
        )
    arn = f"arn:aws:{ctx.service}:{ctx.region}:{ctx.account_id}:connection/{uuid.uuid4()}"
    connection = Connection(
        arn=arn,
        name=name,
        provider_type=provider or "GitHubEnterpriseServer",
        account_id=ctx.account_id,
        host_arn=host_arn,
        tags=_tags(params.get("Tags")),
    )
    connections = store(ctx)
    with connections.lock:
        connections.connections[connection.connection_id] = connection
    out: dict = {"ConnectionArn": arn}
    if connection.tags:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in connection.tags.items()]
    return out


@operation("codestar-connections", "GetConnection")
@operation("codeconnections", "GetConnection")
def get_connection(ctx: Context, params: dict) -> dict:
    return {"Connection": lookup(ctx, params.get("ConnectionArn")).describe()}


@operation("codestar-connections", "ListConnections")
@operation("codeconnections", "ListConnections")
def list_connections(ctx: Context, params: dict) -> dict:
    provider = params.get("ProviderTypeFilter")
    host_arn = params.get("HostArnFilter")
    found = [
        c.describe()
        for c in store(ctx).connections.values()
        if (provider is None or c.provider_type == provider) and (host_arn is None or c.host_arn == host_arn)
    ]
    limit = int(params.get("MaxResults") or 100)
    start = int(params.get("NextToken") or 0)
    out: dict = {"Connections": found[start : start + limit]}
    if start + limit < len(found):
        out["NextToken"] = str(start + limit)
    return out


@operation("codestar-connections", "DeleteConnection")
@operation("codeconnections", "DeleteConnection")
def delete_connection(ctx: Context, params: dict) -> dict:
    connection = lookup(ctx, params.get("ConnectionArn"))
    connections = store(ctx)
    with connections.lock:
        connections.connections.pop(connection.connection_id, None)
    return {}


@operation("codestar-connections", "TagResource")
@operation("codeconnections", "TagResource")
def tag_resource(ctx: Context, params: dict) -> dict:
    lookup(ctx, params.get("ResourceArn"), "ResourceArn").tags.update(_tags(params.get("Tags")))
    return {}


@operation("codestar-connections", "UntagResource")
@operation("codeconnections", "UntagResource")
def untag_resource(ctx: Context, params: dict) -> dict:
    connection = lookup(ctx, params.get("ResourceArn"), "ResourceArn")
    for key in params.get("TagKeys") or []:
        connection.tags.pop(key, None)
    return {}


@operation("codestar-connections", "ListTagsForResource")
@operation("codeconnections", "ListTagsForResource")
def list_tags_for_resource(ctx: Context, params: dict) -> dict:
    connection = lookup(ctx, params.get("ResourceArn"), "ResourceArn")
    return {"Tags": [{"Key": k, "Value": v} for k, v in connection.tags.items()]}
