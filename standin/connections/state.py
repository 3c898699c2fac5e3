"""CodeConnections' state: the connections of each account and region, and the admin side that authorises
them (``StandIn.admin``) and checks them for the git server.

One store serves both endpoints, as after AWS's rename: a connection created through either prefix is seen
through both, and keeps the ARN prefix it was created with. A new connection is PENDING until the stand-in's
admin API authorises it (what a person does in the console's "Update pending connection" step).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from standin.dispatch import AwsError, Context, Layer, present

SERVICES = ("codestar-connections", "codeconnections")
STORE = "connections"
_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):([a-z0-9-]+):(\d{12}):connection/(.+)$"
)


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
        return {
            "ConnectionName": self.name,
            "ConnectionArn": self.arn,
            "ProviderType": self.provider_type,
            "OwnerAccountId": self.account_id,
            "ConnectionStatus": self.status,
            **present(HostArn=self.host_arn),
        }


class ConnectionStore:
    """The connections of one account and region, keyed by connection id."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: dict[str, Connection] = {}


def store(ctx: Context) -> ConnectionStore:
    return ctx.store(STORE, ConnectionStore)


def lookup(ctx: Context, arn: str | None, field_name: str = "ConnectionArn") -> Connection:
    if not arn:
        raise AwsError("ValidationException", f"{field_name} is required: the ARN of a connection.")
    match = _ARN.match(arn)
    if not match:
        raise AwsError(
            "ValidationException",
            f"{field_name} '{arn}' is not a connection ARN: expected "
            "arn:aws:codestar-connections:<region>:<account>:connection/<id> (or codeconnections).",
        )
    connection = store(ctx).connections.get(match.group(4))
    if connection is None or match.group(2) != ctx.region or match.group(3) != ctx.account_id:
        raise AwsError("ResourceNotFoundException", f"Connection {arn} does not exist")
    return connection


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
