"""Service Catalog's provisioning engine: a provisioned product is a CloudFormation stack
``SC-<account>-<pp-id>`` made from the artifact's template, its parameters checked first by the project's
validator (CloudFormation's own rules, read from the template); update and terminate change the same
stack. Records and provisioned products take their status from the stack, as Service Catalog does."""

from __future__ import annotations

import json
import re
from typing import Any

from generator.validation import check_parameters
from standin.cloudformation import stacks
from standin.dispatch import AwsError, Context
from standin.iam.identity import session_arn
from standin.servicecatalog.state import (
    ProvisionedProduct,
    Record,
    find_artifact,
    find_product,
    launch_paths,
    new_id,
    store,
    utcnow,
)
from standin.servicecatalog.templates import load_template


def _launch_role(ctx: Context, product_id: str, portfolio_id: str | None) -> str | None:
    for constraint in store(ctx).constraints.values():
        if constraint.type != "LAUNCH" or constraint.product_id != product_id:
            continue
        if portfolio_id and constraint.portfolio_id != portfolio_id:
            continue
        parameters = json.loads(constraint.parameters)
        if "LocalRoleName" in parameters:
            return f"arn:aws:iam::{ctx.account_id}:role/{parameters['LocalRoleName']}"
        return parameters.get("RoleArn")
    return None


def _resolve_path(ctx: Context, product_id: str, path_id: str | None) -> tuple[str | None, str | None]:
    """(launch path id, portfolio id) for a provisioning; ResourceNotFound when the product has no path."""
    paths = launch_paths(ctx, product_id)
    if path_id:
        for path in paths:
            if path_id in (path["Id"], path["portfolio_id"]):
                return path["Id"], path["portfolio_id"]
        raise AwsError(
            "ResourceNotFoundException", f"Launch path {path_id} not found for product {product_id}."
        )
    if not paths:
        raise AwsError("ResourceNotFoundException", f"No launch paths found for resource: {product_id}")
    if len(paths) > 1:
        raise AwsError(
            "InvalidParametersException",
            f"Product {product_id} has {len(paths)} launch paths: give PathId (see list_launch_paths).",
        )
    return paths[0]["Id"], paths[0]["portfolio_id"]


def parameter_error_message(problems: list) -> str:
    """CloudFormation's kind of message for refused parameter values, each naming its parameter."""
    parts = []
    for problem in problems:
        shown = "no value" if problem.value is None else f"value '{problem.value}'"
        parts.append(f"Parameter '{problem.name}' ({shown}) failed to satisfy constraint: {problem.message}")
    return "Parameter validation failed: " + "; ".join(parts)


def check_values(template: dict, values: dict[str, str]) -> None:
    problems = check_parameters(template, values)
    if problems:
        raise AwsError("InvalidParametersException", parameter_error_message(problems))


def parameter_values(params: list[dict] | None, previous: dict[str, str] | None = None) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in params or []:
        key = item.get("Key")
        if not key:
            raise AwsError("InvalidParametersException", "Every ProvisioningParameters entry needs a Key.")
        if item.get("UsePreviousValue") and previous is not None and key in previous:
            values[key] = previous[key]
        else:
            values[key] = str(item.get("Value", ""))
    return values


def provision(
    ctx: Context,
    product_id: str,
    artifact_id: str,
    name: str,
    values: dict[str, str],
    tags: dict[str, str] | None = None,
    path_id: str | None = None,
    token: str | None = None,
) -> Record:
    """Check the values, then start the stack; returns the PROVISION_PRODUCT record (IN_PROGRESS)."""
    product = find_product(ctx, product_id)
    artifact = find_artifact(ctx, product.id, artifact_id)
    path, portfolio_id = _resolve_path(ctx, product.id, path_id)
    catalog = store(ctx)
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}", name or ""):
        raise AwsError(
            "InvalidParametersException",
            f"ProvisionedProductName '{name}' is not valid: 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
        )
    if any(pp.name == name and not pp.terminated for pp in catalog.provisioned.values()):
        raise AwsError("DuplicateResourceException", f"A provisioned product named {name} already exists.")
    body, template = load_template(ctx, artifact.template_url)
    check_values(template, values)
    pp_id = new_id("pp-")
    launch_role = _launch_role(ctx, product.id, portfolio_id)
    pp = ProvisionedProduct(
        id=pp_id,
        name=name,
        arn=f"arn:aws:servicecatalog:{ctx.region}:{ctx.account_id}:stack/{name}/{pp_id}",
        product_id=product.id,
        artifact_id=artifact.id,
        path_id=path,
        stack_name=f"SC-{ctx.account_id}-{pp_id}",
        launch_role=launch_role,
        tags=dict(tags or {}),
        parameters=dict(values),
        idempotency_token=token or new_id("", 20),
        user_arn=session_arn(ctx),
    )
    stack_tags = {**pp.tags, "aws:servicecatalog:provisionedProductArn": pp.arn}
    try:
        stack_id = stacks.create_stack_async(
            ctx.account_id,
            ctx.region,
            pp.stack_name,
            body,
            parameters=values,
            tags=stack_tags,
            env=ctx.standin.env if ctx.standin is not None else None,
            role_arn=launch_role,
        )
    except AwsError as error:
        raise AwsError("InvalidParametersException", error.message) from None
    pp.stack_id = stack_id
    record = Record(new_id("rec-"), "PROVISION_PRODUCT", pp, artifact.id, path, stack_id)
    pp.records.append(record)
    with catalog.lock:
        catalog.provisioned[pp.id] = pp
        catalog.records[record.id] = record
    return record


def _stack(ctx: Context, stack_id: str | None) -> Any:
    backend = ctx.backend("cloudformation")
    return backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)


def _stack_failures(stack: Any) -> list[dict]:
    errors = []
    for event in getattr(stack, "events", []):
        status = getattr(event, "resource_status", "")
        if status.endswith("_FAILED") and getattr(event, "logical_resource_id", "") != stack.name:
            errors.append(
                {
                    "Code": status,
                    "Description": f"{event.logical_resource_id} ({event.resource_type}): "
                    f"{event.resource_status_reason or status}",
                }
            )
    return errors


def _outputs(stack: Any) -> list[dict]:
    try:
        outputs = list(stack.output_map.values()) if stack is not None else []
    except Exception:  # noqa: BLE001 - an output that cannot be resolved is left out, not fatal
        return []
    return [
        {"OutputKey": o.key, "OutputValue": str(o.value), "Description": o.description or ""} for o in outputs
    ]


_OUTCOME = {
    "PROVISION_PRODUCT": ({"CREATE_COMPLETE"}, {"CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"}),
    "UPDATE_PROVISIONED_PRODUCT": (
        {"UPDATE_COMPLETE"},
        {"UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"},
    ),
    "TERMINATE_PROVISIONED_PRODUCT": ({"DELETE_COMPLETE"}, set()),
}


def refresh(ctx: Context, record: Record) -> Record:
    """Bring a record (and its provisioned product) up to date with its stack."""
    if record.final:
        return record
    stack = _stack(ctx, record.stack_id)
    pp = record.provisioned_product
    status = stack.status if stack is not None else "DELETE_COMPLETE"
    done, running = _OUTCOME[record.record_type]
    if record.record_type == "TERMINATE_PROVISIONED_PRODUCT" and not status.startswith("DELETE_"):
        running = {status}
    if status in running or (status.endswith("_IN_PROGRESS") and status not in done):
        return record
    record.updated = utcnow()
    record.final = True
    if status in done:
        record.status = "SUCCEEDED"
        if record.record_type == "TERMINATE_PROVISIONED_PRODUCT":
            pp.terminated = True
            pp.status = "AVAILABLE"
        else:
            pp.status, pp.status_message, pp.last_success = "AVAILABLE", "", record.id
            record.outputs = _outputs(stack)
    else:
        record.status = "FAILED"
        record.errors = _stack_failures(stack) if stack is not None else []
        reasons = "; ".join(e["Description"] for e in record.errors) or f"stack {status}"
        if record.record_type == "PROVISION_PRODUCT":
            pp.status = "ERROR"
            pp.status_message = f"The following resource(s) failed to create: {reasons}"
        elif record.record_type == "UPDATE_PROVISIONED_PRODUCT":
            pp.status = "TAINTED"
            pp.status_message = f"The update failed: {reasons}"
        else:
            pp.status = "ERROR"
            pp.status_message = f"The following resource(s) failed to delete: {reasons}"
    return record


def provisioned_product(
    ctx: Context, pp_id: str | None = None, name: str | None = None
) -> ProvisionedProduct:
    catalog = store(ctx)
    for pp in catalog.provisioned.values():
        if (pp_id and pp.id == pp_id) or (not pp_id and name and pp.name == name):
            refresh(ctx, pp.records[-1])
            if pp.terminated:
                break
            return pp
    raise AwsError("ResourceNotFoundException", f"Provisioned product {pp_id or name} not found.")


def update(
    ctx: Context,
    pp: ProvisionedProduct,
    artifact_id: str | None,
    values: dict[str, str] | None,
    path_id: str | None = None,
    previous: list[dict] | None = None,
) -> Record:
    """Update the provisioned product's stack with a new artifact and/or parameters."""
    if pp.status == "UNDER_CHANGE":
        raise AwsError(
            "InvalidStateException", f"Provisioned product {pp.id} is under change: wait for its last record."
        )
    artifact = find_artifact(ctx, pp.product_id, artifact_id or pp.artifact_id)
    body, template = load_template(ctx, artifact.template_url)
    merged = dict(pp.parameters)
    merged.update(values or {})
    merged = {k: v for k, v in merged.items() if k in (template.get("Parameters") or {})}
    check_values(template, merged)
    try:
        stacks.update_stack_async(
            ctx.account_id,
            ctx.region,
            pp.stack_id or pp.stack_name,
            body,
            parameters=merged,
            env=ctx.standin.env if ctx.standin is not None else None,
        )
    except AwsError as error:
        raise AwsError("InvalidParametersException", error.message) from None
    pp.artifact_id, pp.parameters, pp.status = artifact.id, merged, "UNDER_CHANGE"
    record = Record(
        new_id("rec-"), "UPDATE_PROVISIONED_PRODUCT", pp, artifact.id, path_id or pp.path_id, pp.stack_id
    )
    pp.records.append(record)
    store(ctx).records[record.id] = record
    return record


def terminate(ctx: Context, pp: ProvisionedProduct) -> Record:
    if pp.status == "UNDER_CHANGE":
        raise AwsError(
            "InvalidStateException", f"Provisioned product {pp.id} is under change: wait for its last record."
        )
    stacks.delete_stack_async(
        ctx.account_id, ctx.region, pp.stack_id or pp.stack_name, env=ctx.standin.env if ctx.standin else None
    )
    pp.status = "UNDER_CHANGE"
    record = Record(
        new_id("rec-"), "TERMINATE_PROVISIONED_PRODUCT", pp, pp.artifact_id, pp.path_id, pp.stack_id
    )
    pp.records.append(record)
    store(ctx).records[record.id] = record
    return record
