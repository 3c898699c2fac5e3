"""CodeConnections, answered under both of its names (``codestar-connections`` and ``codeconnections``).

One store serves both endpoints, as after AWS's rename: a connection created through either prefix is seen
through both, and keeps the ARN prefix it was created with. A new connection is PENDING until the stand-in's
admin API authorises it (what a person does in the console's "Update pending connection" step).
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass, field

from standin.dispatch import AwsError, Context, Layer, operation

SERVICES = ("codestar-connections", "codeconnections")
PROVIDER_TYPES = ("Bitbucket", "GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged")
STORE = "connections"
_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):([a-z0-9-]+):(\d{12}):connection/(.+)$"
)
_NAME = re.compile(r"^[\s\S]{1,32}$")


@dataclass
class Connection:
    arn: str
    name: str
    provider_type: str
    account_id: str
    status: str = "PENDING"
    host_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def connection_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def describe(self) -> dict:
        out = {
            "ConnectionName": self.name,
            "ConnectionArn": self.arn,
            "ProviderType": self.provider_type,
            "OwnerAccountId": self.account_id,
            "ConnectionStatus": self.status,
        }
        if self.host_arn:
            out["HostArn"] = self.host_arn
        return out


class ConnectionStore:
    """The connections of one account and region, keyed by connection id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: dict[str, Connection] = {}


def _store(ctx: Context) -> ConnectionStore:
    return ctx.store(STORE, ConnectionStore)


def _tags(tags: list[dict] | None) -> dict[str, str]:
    out = {}
    for tag in tags or []:
        key, value = tag.get("Key"), tag.get("Value")
        if not key or value is None:
            raise AwsError("ValidationException", "Each tag needs a Key (1-128 characters) and a Value.")
        out[key] = value
    return out


def _lookup(ctx: Context, arn: str | None, field_name: str = "ConnectionArn") -> Connection:
    if not arn:
        raise AwsError("ValidationException", f"{field_name} is required: the ARN of a connection.")
    match = _ARN.match(arn)
    if not match:
        raise AwsError(
            "ValidationException",
            f"{field_name} '{arn}' is not a connection ARN: expected "
            "arn:aws:codestar-connections:<region>:<account>:connection/<id> (or codeconnections).",
        )
    connection = _store(ctx).connections.get(match.group(4))
    if connection is None or match.group(2) != ctx.region or match.group(3) != ctx.account_id:
        raise AwsError("ResourceNotFoundException", f"Connection {arn} does not exist")
    return connection


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
    store = _store(ctx)
    with store.lock:
        store.connections[connection.connection_id] = connection
    out: dict = {"ConnectionArn": arn}
    if connection.tags:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in connection.tags.items()]
    return out


def get_connection(ctx: Context, params: dict) -> dict:
    return {"Connection": _lookup(ctx, params.get("ConnectionArn")).describe()}


def list_connections(ctx: Context, params: dict) -> dict:
    provider = params.get("ProviderTypeFilter")
    host_arn = params.get("HostArnFilter")
    found = [
        c.describe()
        for c in _store(ctx).connections.values()
        if (provider is None or c.provider_type == provider) and (host_arn is None or c.host_arn == host_arn)
    ]
    limit = int(params.get("MaxResults") or 100)
    start = int(params.get("NextToken") or 0)
    out: dict = {"Connections": found[start : start + limit]}
    if start + limit < len(found):
        out["NextToken"] = str(start + limit)
    return out


def delete_connection(ctx: Context, params: dict) -> dict:
    connection = _lookup(ctx, params.get("ConnectionArn"))
    store = _store(ctx)
    with store.lock:
        store.connections.pop(connection.connection_id, None)
    return {}


def tag_resource(ctx: Context, params: dict) -> dict:
    _lookup(ctx, params.get("ResourceArn"), "ResourceArn").tags.update(_tags(params.get("Tags")))
    return {}


def untag_resource(ctx: Context, params: dict) -> dict:
    connection = _lookup(ctx, params.get("ResourceArn"), "ResourceArn")
    for key in params.get("TagKeys") or []:
        connection.tags.pop(key, None)
    return {}


def list_tags_for_resource(ctx: Context, params: dict) -> dict:
    connection = _lookup(ctx, params.get("ResourceArn"), "ResourceArn")
    return {"Tags": [{"Key": k, "Value": v} for k, v in connection.tags.items()]}


for _service in SERVICES:
    for _name, _handler in {
        "CreateConnection": create_connection,
        "GetConnection": get_connection,
        "ListConnections": list_connections,
        "DeleteConnection": delete_connection,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    }.items():
        operation(_service, _name)(_handler)


# -- the admin side, used by StandIn.admin and the git server ---------------------------------------------


def find_connection(layer: Layer, arn_or_id: str) -> Connection | None:
    """The connection with this ARN (either prefix) or id, in any account and region."""
    connection_id = arn_or_id.rsplit("/", 1)[-1]
    for _, _, store in layer.stores(STORE):
        if connection_id in store.connections:
            return store.connections[connection_id]
    return None


def authorize_connection(layer: Layer, arn: str) -> Connection:
    """Mark a connection AVAILABLE, as completing the console's handshake with the provider does."""
    connection = find_connection(layer, arn)
    if connection is None:
        raise KeyError(f"no connection {arn}: create it first (codeconnections create-connection)")
    connection.status = "AVAILABLE"
    return connection


def git_authorize(layer: Layer, connection_id: str) -> str | None:
    """The git server's check: None when the connection may be used, else the reason it is refused."""
    connection = find_connection(layer, connection_id)
    if connection is None:
        return f"Connection {connection_id} does not exist."
    if connection.status != "AVAILABLE":
        return (
            f"Connection {connection.arn} is {connection.status}, not AVAILABLE: complete the connection's "
            "handshake with the provider (update the pending connection) first."
        )
    return None
