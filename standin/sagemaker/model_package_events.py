"""SageMaker's "Model Package State Change" events: `CreateModelPackage` and `UpdateModelPackage` (when the
approval status changes) are answered by moto, then the event AWS would send (source `aws.sagemaker`, the
package's describe output as `detail`) goes to EventBridge's delivery (moto's SageMaker emits no events)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from standin import engines
from standin.dispatch import Context, operation
from standin.events.delivery import deliver

SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Model Package State Change"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    return value


def package_event(account_id: str, region: str, package: dict[str, Any]) -> dict[str, Any]:
    """The event AWS sends for a model package (`package` as describe_model_package returns it)."""
    detail = _plain(package)
    detail.setdefault("ModelPackageStatus", "Completed")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account_id,
        "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [package["ModelPackageArn"]],
        "detail": detail,
    }


def emit_package_change(ctx: Context, package_arn: str) -> list[str]:
    package = engines.client(ctx.standin, "sagemaker", ctx.region).describe_model_package(
        ModelPackageName=package_arn
    )
    return deliver(ctx.account_id, ctx.region, package_event(ctx.account_id, ctx.region, package))


def _approval_status(ctx: Context, arn: str) -> str | None:
    try:
        client = engines.client(ctx.standin, "sagemaker", ctx.region)
        return client.describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus")
    except Exception:  # noqa: BLE001 - the update itself will report the missing package
        return None


@operation("sagemaker", "CreateModelPackage")
def create_model_package(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    engines.bind(ctx.standin)
    answer = ctx.forward_json()
    emit_package_change(ctx, answer["ModelPackageArn"])
    return answer


@operation("sagemaker", "UpdateModelPackage")
def update_model_package(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    engines.bind(ctx.standin)
    before = _approval_status(ctx, params.get("ModelPackageArn", ""))
    answer = ctx.forward_json()
    after = _approval_status(ctx, answer["ModelPackageArn"])
    if after != before:
        emit_package_change(ctx, answer["ModelPackageArn"])
    return answer
