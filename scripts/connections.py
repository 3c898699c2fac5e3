"""`connection create|check` (walkthrough step 1): a CodeConnections connection Studio's roles may use."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from scripts.common import Aws, BadInput, CommandError, NotFound, is_not_found, paginate

SAGEMAKER_TAG = {"Key": "sagemaker", "Value": "true"}
PROVIDERS = ("GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged", "Bitbucket")
SERVICES = ("codestar-connections", "codeconnections")


def service_of(arn: str) -> str:
    """The API a connection ARN belongs to (both prefixes name the same connections since the rename)."""
    parts = arn.split(":")
    if (
        len(parts) < 6
        or parts[0] != "arn"
        or parts[2] not in SERVICES
        or not parts[5].startswith("connection/")
    ):
        raise BadInput(
            f"{arn!r} is not a connection ARN",
            field="--connection-arn",
            fix="give arn:aws:codestar-connections:<region>:<account>:connection/<id> (or codeconnections)",
        )
    return parts[2]


def _all_connections(client: Any, provider: str | None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"ProviderTypeFilter": provider} if provider else {}
    return paginate(client, "list_connections", "Connections", **kwargs)


def ensure_connection(
    aws: Aws, name: str, provider: str = "GitHub", service: str = "codestar-connections"
) -> dict[str, Any]:
    """Find the connection `name` or create it tagged `sagemaker=true`; add the tag if it is missing."""
    if provider not in PROVIDERS:
        raise BadInput(f"unknown provider {provider!r}", field="--provider", fix=f"use one of {PROVIDERS}")
    if not 1 <= len(name) <= 32:
        raise BadInput(
            f"{name!r} is not 1 to 32 characters", field="--name", fix="choose a shorter connection name"
        )
    client = aws.client(service)
    for connection in _all_connections(client, provider):
        if connection["ConnectionName"] == name:
            arn = connection["ConnectionArn"]
            tags = client.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
            created = "exists"
            if not _tagged(tags):
                client.tag_resource(ResourceArn=arn, Tags=[SAGEMAKER_TAG])
                created = "exists, tag sagemaker=true added"
            return {"arn": arn, "status": connection["ConnectionStatus"], "action": created}
    arn = client.create_connection(ProviderType=provider, ConnectionName=name, Tags=[SAGEMAKER_TAG])[
        "ConnectionArn"
    ]
    return {"arn": arn, "status": "PENDING", "action": "created"}


def _tagged(tags: list[dict[str, str]]) -> bool:
    return any(t.get("Key") == "sagemaker" and str(t.get("Value", "")).lower() == "true" for t in tags)


def check_connection(aws: Aws, arn: str) -> list[str]:
    """What keeps Studio's roles from using the connection, each with what to do; [] when usable."""
    client = aws.client(service_of(arn))
    try:
        status = client.get_connection(ConnectionArn=arn)["Connection"]["ConnectionStatus"]
    except ClientError as error:
        if is_not_found(error):
            raise NotFound(
                f"connection {arn} does not exist in this account and region",
                field="--connection-arn",
                fix="create it with `sm-mlops connection create --name NAME`",
            ) from error
        raise
    problems = []
    if status == "PENDING":
        problems.append(
            "the connection is PENDING: open the console (Developer Tools > Settings > Connections), "
            "choose it, press 'Update pending connection' and complete the handshake with your Git provider"
        )
    elif status != "AVAILABLE":
        problems.append(
            f"the connection is {status}: delete it and create a new one with `sm-mlops connection create`"
        )
    tags = client.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
    if not _tagged(tags):
        problems.append(
            "the connection lacks the tag sagemaker=true, so the Studio roles may not use it: "
            f"run `aws {service_of(arn)} tag-resource --resource-arn {arn} --tags Key=sagemaker,Value=true`"
        )
    return problems


def require_usable(aws: Aws, arn: str) -> None:
    problems = check_connection(aws, arn)
    if problems:
        raise CommandError("; ".join(problems), field="--connection-arn")
