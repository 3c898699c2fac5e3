"""`preflight`: what a project needs before anyone presses Create, one clear message per problem."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from botocore.exceptions import ClientError

from scripts.common import Aws, CommandError, is_not_found, paginate
from scripts.connections import check_connection
from scripts.iam_roles import KINDS, SERVICE_ROLE_PATH, role_name
from scripts.permission_check import check_permissions, field_values, role_path
from scripts.servicecatalog import VISIBILITY_TAG, asset_bucket_name, find_product, studio_execution_roles
from seeding.assets import Asset

# Instance types the seed code uses, and the quota each needs (QuotaName as Service Quotas lists it).
SEED_INSTANCE_QUOTAS = (
    "ml.m5.xlarge for processing job usage",
    "ml.m5.xlarge for training job usage",
    "ml.m5.large for training job usage",
    "ml.m5.large for endpoint usage",
)


def _row(check: str, status: str, detail: str) -> dict[str, str]:
    return {"check": check, "status": status, "detail": detail}


def _short(error: Exception) -> str:
    """A one-line reason: AWS's error code and message, or that the endpoint did not answer the call."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        if str(info.get("Code", "")).isdigit():  # an HTTP status, not an AWS error: the call is not answered
            return f"the endpoint does not answer {error.operation_name} (HTTP {info.get('Code')})"
        return f"{info.get('Code')}: {str(info.get('Message', ''))[:160]}"
    return f"the endpoint does not answer this call ({type(error).__name__})"


def _trusts(document: Any, service: str) -> bool:
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    for statement in document.get("Statement", []):
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and service in services:
            return True
    return False


def family_roles(aws: Aws, family: str) -> dict[str, dict[str, Any] | None]:
    """Each role of the family (None: missing), keyed by kind."""
    iam, found = aws.client("iam"), {}
    for kind in KINDS:
        try:
            found[kind] = iam.get_role(RoleName=role_name(family, kind))["Role"]
        except ClientError as error:
            if not is_not_found(error):
                raise
            found[kind] = None
    return found


def check_roles(family: str, roles: dict[str, dict[str, Any] | None]) -> list[dict[str, str]]:
    rows = []
    for kind, role in roles.items():
        name = role_name(family, kind)
        if role is None:
            rows.append(
                _row(f"role {name}", "problem", f"missing: run `sm-mlops bootstrap --role-family {family}`")
            )
        elif kind == "Launch" and not _trusts(
            role["AssumeRolePolicyDocument"], "servicecatalog.amazonaws.com"
        ):
            rows.append(
                _row(
                    f"role {name}",
                    "problem",
                    "does not trust servicecatalog.amazonaws.com, so it cannot be a launch constraint: "
                    "add that service principal to its trust policy",
                )
            )
        else:
            rows.append(_row(f"role {name}", "ok", role["Arn"]))
    return rows


def role_paths(family: str, roles: dict[str, dict[str, Any] | None]) -> dict[str, str]:
    """Each role's path and name; a missing role's as `bootstrap` would make it."""
    return {
        kind: role_path(role) if role else f"{SERVICE_ROLE_PATH.strip('/')}/{role_name(family, kind)}"
        for kind, role in roles.items()
    }


def check_studio_roles(aws: Aws, arns: list[str]) -> list[dict[str, str]]:
    if not arns:
        return [
            _row("Studio execution role", "problem", "no SageMaker domain and no --studio-role-arn given")
        ]
    iam, rows = aws.client("iam"), []
    for arn in arns:
        try:
            iam.get_role(RoleName=arn.rsplit("/", 1)[-1])
            rows.append(_row("Studio execution role", "ok", arn))
        except ClientError as error:
            if not is_not_found(error):
                raise
            rows.append(
                _row("Studio execution role", "problem", f"{arn} does not exist: fix the domain's settings")
            )
    return rows


def check_assets(aws: Aws, assets: list[Asset]) -> dict[str, str]:
    s3, bucket = aws.client("s3"), asset_bucket_name(aws.account, aws.region)
    missing = []
    for asset in assets:
        try:
            s3.head_object(Bucket=bucket, Key=asset.key)
        except ClientError:
            missing.append(asset.key)
    if missing:
        return _row(
            f"asset bucket {bucket}", "problem", f"missing {', '.join(missing)}: run `sm-mlops register`"
        )
    return _row(f"asset bucket {bucket}", "ok", "seed and bootstrap zips present")


def check_product(aws: Aws, product_name: str, product_id: str | None) -> dict[str, str]:
    if not product_id:
        return _row("product", "problem", f"no product {product_name!r}: run `sm-mlops register`")
    sc = aws.client("servicecatalog")
    tags = sc.describe_product_as_admin(Id=product_id).get("Tags", [])
    if not any(t["Key"] == VISIBILITY_TAG["Key"] and t["Value"] == "true" for t in tags):
        return _row(
            "product",
            "problem",
            f"{product_id} lacks tag sagemaker:studio-visibility=true: run `sm-mlops register`",
        )
    return _row("product", "ok", f"{product_id}, visible in Studio")


def check_quotas(aws: Aws) -> list[dict[str, str]]:
    try:
        quotas = paginate(
            aws.client("service-quotas"), "list_service_quotas", "Quotas", ServiceCode="sagemaker"
        )
    except Exception as error:  # noqa: BLE001 - as above
        return [_row("SageMaker quotas", "warning", f"could not read Service Quotas: {_short(error)}")]
    by_name = {q.get("QuotaName", ""): q.get("Value", 0) for q in quotas}
    rows = []
    for name in SEED_INSTANCE_QUOTAS:
        if name not in by_name:
            rows.append(_row(f"quota {name}", "warning", "not listed; check Service Quotas in the console"))
        elif by_name[name] < 1:
            rows.append(_row(f"quota {name}", "problem", "is 0: request an increase in Service Quotas"))
        else:
            rows.append(_row(f"quota {name}", "ok", f"{by_name[name]:g}"))
    return rows


def preflight(
    aws: Aws,
    family: str,
    product_name: str,
    connection_arn: str | None,
    studio_roles: list[str],
    *,
    permission_status: str = "problem",
) -> list[dict[str, str]]:
    """Every check's row; an action a role is refused is reported with `permission_status`."""
    from seeding.assets import build_assets

    roles = family_roles(aws, family)
    rows = check_roles(family, roles)
    studio_roles = studio_roles or studio_execution_roles(aws.client("sagemaker"))
    studio_rows = check_studio_roles(aws, studio_roles)
    rows += studio_rows
    studio = [arn for arn, row in zip(studio_roles, studio_rows, strict=False) if row["status"] == "ok"]
    assets = list(build_assets().values())
    rows.append(check_assets(aws, assets))
    if connection_arn:
        try:
            problems = check_connection(aws, connection_arn)
        except CommandError as error:
            problems = [str(error)]
        rows += [_row("connection", "problem", p) for p in problems] or [
            _row("connection", "ok", connection_arn)
        ]
    else:
        rows.append(_row("connection", "warning", "not checked: pass --connection-arn"))
    product_id = find_product(aws.client("servicecatalog"), product_name)
    rows.append(check_product(aws, product_name, product_id))
    values = field_values(
        aws,
        role_paths(family, roles),
        product_id=product_id,
        connection_arn=connection_arn,
        asset_keys=[a.key for a in assets],
    )
    existing = {kind: role for kind, role in roles.items() if role}
    rows += check_permissions(aws, existing, studio, values, status=permission_status)
    rows += check_quotas(aws)
    return rows
