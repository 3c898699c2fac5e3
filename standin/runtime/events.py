"""EventBridge delivery for what SageMaker emits: "SageMaker Model Package State Change".

moto's SageMaker emits no events and moto's EventBridge cannot deliver to CodePipeline. Here
`CreateModelPackage` and `UpdateModelPackage` are answered by moto, then the event AWS would send is built
from the package, matched against every enabled rule of the default bus with moto's own pattern matcher,
and delivered: a CodePipeline target starts that pipeline; other targets go through moto's delivery.
`PutEvents` is answered the same way, so a custom event reaches a pipeline too.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import threading
import uuid
from typing import Any

from standin.runtime import context

log = logging.getLogger(__name__)
SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Model Package State Change"

_emitted: list[dict[str, Any]] = []
_emitted_lock = threading.Lock()


def emitted() -> list[dict[str, Any]]:
    """Every event built since the last reset, oldest first (for tests and for a person debugging a rule)."""
    with _emitted_lock:
        return list(_emitted)


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


def deliver(account_id: str, region: str, event: dict[str, Any], bus_name: str = "default") -> list[str]:
    """Send `event` to the targets of every enabled rule whose pattern matches; returns those reached."""
    from moto.backends import get_backend

    from standin.runtime import codepipeline

    with _emitted_lock:
        _emitted.append(event)
    backend = get_backend("events")[account_id][region]  # type: ignore[call-overload]
    bus = backend.event_buses.get(bus_name.rsplit("/", 1)[-1])
    reached: list[str] = []
    if bus is None:
        return reached
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
            continue
        for target in list(rule.targets):
            arn = target["Arn"]
            parts = arn.split(":")
            if len(parts) >= 6 and parts[2] == "codepipeline":
                name = parts[5]
                try:
                    codepipeline.start_pipeline(parts[4], parts[3], name, "CloudWatchEvent", rule.arn)
                except KeyError:
                    log.warning("rule %s: target pipeline %s does not exist", rule.name, name)
                    continue
            else:
                single = copy.copy(rule)
                single.targets = [target]
                try:
                    single.send_to_targets(event)
                except NotImplementedError:
                    log.warning("rule %s: the stand-in cannot deliver to %s", rule.name, arn)
                    continue
            reached.append(arn)
    return reached


def emit_package_change(ctx: Any, package_arn: str) -> list[str]:
    package = context.client(ctx.standin, "sagemaker", ctx.region).describe_model_package(
        ModelPackageName=package_arn
    )
    return deliver(ctx.account_id, ctx.region, package_event(ctx.account_id, ctx.region, package))


def _approval_status(ctx: Any, arn: str) -> str | None:
    try:
        client = context.client(ctx.standin, "sagemaker", ctx.region)
        return client.describe_model_package(ModelPackageName=arn).get("ModelApprovalStatus")
    except Exception:  # the update itself will report the missing package
        return None


def on_model_package_changed(account_id: str, region: str, model_package_arn: str) -> list[str]:
    """`hooks.model_package_changed` from part 1 (a package made outside the API): emit its event too."""
    if not context.bound():
        return []
    client = context.client(context.current(), "sagemaker", region)
    package = client.describe_model_package(ModelPackageName=model_package_arn)
    return deliver(account_id, region, package_event(account_id, region, package))


def register_api() -> None:
    from standin import hooks
    from standin.dispatch import on_reset, operation

    hooks.subscribe("model_package_changed", on_model_package_changed)

    @operation("sagemaker", "CreateModelPackage")
    def _create(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        context.bind(ctx.standin)
        answer = ctx.forward_json()
        emit_package_change(ctx, answer["ModelPackageArn"])
        return answer

    @operation("sagemaker", "UpdateModelPackage")
    def _update(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        context.bind(ctx.standin)
        before = _approval_status(ctx, params.get("ModelPackageArn", ""))
        answer = ctx.forward_json()
        after = _approval_status(ctx, answer["ModelPackageArn"])
        if after != before:
            emit_package_change(ctx, answer["ModelPackageArn"])
        return answer

    @operation("events", "PutEvents")
    def _put_events(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        context.bind(ctx.standin)
        entries = []
        failed = 0
        for entry in params.get("Entries") or []:
            missing = [k for k in ("Source", "DetailType", "Detail") if not entry.get(k)]
            if missing:
                failed += 1
                entries.append(
                    {
                        "ErrorCode": "InvalidArgument",
                        "ErrorMessage": f"Parameter {missing[0]} is not valid: it is required.",
                    }
                )
                continue
            try:
                detail = json.loads(entry["Detail"])
            except ValueError:
                failed += 1
                entries.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
                continue
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "account": ctx.account_id,
                "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": ctx.region,
                "resources": entry.get("Resources") or [],
                "detail": detail,
            }
            deliver(ctx.account_id, ctx.region, event, entry.get("EventBusName") or "default")
            entries.append({"EventId": event["id"]})
        return {"FailedEntryCount": failed, "Entries": entries}

    @on_reset
    def _forget() -> None:
        with _emitted_lock:
            _emitted.clear()
