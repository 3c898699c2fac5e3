"""The stand-in's CloudFormation stack engine: stacks that run in the background with per-resource events,
rollback and deletion as AWS does.

``create_stack_async`` is the one way stacks get made (``CreateStack``, Service Catalog provisioning, the
pipelines' CloudFormation actions): it validates synchronously (template, parameters), then creates
resources in dependency order in a thread; ``describe_stacks`` shows ``CREATE_IN_PROGRESS`` then
``CREATE_COMPLETE``, or ``ROLLBACK_COMPLETE`` with a ``CREATE_FAILED`` event naming the resource and why.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Event, Stack, cloudformation_backends
from moto.cloudformation.utils import generate_stack_id

# moto_fixes imports this package (the custom resource, the dependency order) to correct moto with it; the
# engine uses moto_fixes only when a stack runs, so the import order between the two never matters.
from standin import changes, moto_fixes
from standin.cloudformation import resource_permissions, stack_role
from standin.cloudformation.dependencies import creation_order, dependencies, moto_state, run_when_ready
from standin.dispatch import AwsError

log = logging.getLogger(__name__)


class _NoOutputs(Mapping):
    """Outputs while a stack is being created: none (AWS shows them once the stack is complete)."""

    exports: list = []

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Any:
        return iter([])

    def __len__(self) -> int:
        return 0


def _event(
    stack: Stack,
    logical_id: str,
    physical_id: str,
    resource_type: str,
    status: str,
    reason: str | None = None,
) -> None:
    stack.events.append(
        Event(stack.stack_id, stack.name, logical_id, physical_id or "", resource_type, status, reason, None)
    )
    changes.notify()


def _prepare_stack(
    account_id: str,
    region: str,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str],
    tags: Mapping[str, str] | None,
    role_arn: str | None,
    notification_arns: list[str] | None,
) -> Stack:
    backend = cloudformation_backends[account_id][region]
    if any(s.name == stack_name for s in backend.stacks.values()):
        raise AwsError("AlreadyExistsException", f"Stack [{stack_name}] already exists")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", stack_name or ""):
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{stack_name}' at 'stackName' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]*",
        )
    stack_id = generate_stack_id(stack_name, region, account_id)
    try:
        stack = Stack(  # type: ignore[abstract]
            stack_id=stack_id,
            name=stack_name,
            template=template_body,
            parameters=dict(parameters),
            account_id=account_id,
            region_name=region,
            notification_arns=notification_arns,
            tags=dict(tags or {}),
            role_arn=role_arn,
            cross_stack_resources=backend.exports,
        )
    except ValidationError as error:
        raise AwsError("ValidationError", str(getattr(error, "message", None) or error)) from error
    except Exception as error:  # moto's parameter errors and template errors alike
        raise AwsError("ValidationError", str(error)) from error
    # Loading parsed parameters and conditions only; from here on, only the worker creates resources.
    moto_fixes.guard(stack.resource_map)
    resources = stack.template_dict.get("Resources") or {}
    for logical_id, resource in list(resources.items()):
        condition = resource.get("Condition")
        if condition and not stack.resource_map.lazy_condition_map[condition]:
            del resources[logical_id]
    try:
        stack.standin_order = creation_order(resources)  # type: ignore[attr-defined]
    except ValidationError as error:
        raise AwsError("ValidationError", str(getattr(error, "message", None) or error)) from error
    stack.output_map = _NoOutputs()  # type: ignore[assignment]
    stack.status = "CREATE_IN_PROGRESS"
    backend.stacks[stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    return stack


def _propagate_stack_tags(stack: Stack, resource_type: str, physical: str) -> None:
    """CloudFormation copies the stack's tags to the resources it creates (a project's bucket carries
    `sagemaker:project-name`/`-id` that way); the resource's own tags win. Modelled for S3 buckets."""
    if resource_type != "AWS::S3::Bucket" or not stack.tags:
        return
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    s3 = s3_backends[stack.account_id][get_partition(stack.region_name)]
    own = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(physical).get("Tags", [])}
    s3.put_bucket_tagging(physical, {**dict(stack.tags), **own})


def _create_resources(stack: Stack, disable_rollback: bool) -> None:
    moto_fixes.STACK_WORKER.stack_id = stack.stack_id
    resources = stack.template_dict.get("Resources") or {}

    def create(logical_id: str) -> bool:
        moto_fixes.STACK_WORKER.stack_id = stack.stack_id
        resource_type = resources[logical_id]["Type"]
        _event(stack, logical_id, "", resource_type, "CREATE_IN_PROGRESS")
        try:
            with moto_state():
                instance = stack.resource_map[logical_id]
                if instance is not None:
                    instance.cf_resource_type = resource_type
                    instance.logical_resource_id = logical_id
                    physical = str(getattr(instance, "physical_resource_id", "") or "")
                    properties = parsing.clean_json(
                        resources[logical_id].get("Properties") or {}, stack.resource_map
                    )
                    refused = resource_permissions.refusal(
                        stack, logical_id, resource_type, properties, physical
                    )
                    if refused is not None:  # the handler failed: what it made is cleaned up, as AWS does
                        stack.resource_map._delete_resource(instance, resources[logical_id])
                        stack.resource_map._parsed_resources.pop(logical_id, None)
                        raise AwsError("AccessDenied", refused)
                    _propagate_stack_tags(stack, resource_type, physical)
        except Exception as error:  # noqa: BLE001 - any failure of one resource fails the stack
            reason = getattr(error, "message", None) or str(error) or type(error).__name__
            log.info("stack %s: %s failed: %s", stack.name, logical_id, reason)
            _event(stack, logical_id, "", resource_type, "CREATE_FAILED", reason)
            return False
        if instance is None:
            _event(
                stack,
                logical_id,
                "",
                resource_type,
                "CREATE_COMPLETE",
                f"{resource_type} is not simulated by the stand-in; nothing was created",
            )
        else:
            _event(stack, logical_id, physical, resource_type, "CREATE_COMPLETE")
        return True

    try:
        order: list[str] = stack.standin_order  # type: ignore[attr-defined]
        failed = run_when_ready(order, dependencies(resources), create, name=f"stack-{stack.name}")
        if failed is None:
            backend = cloudformation_backends[stack.account_id][stack.region_name]
            stack.output_map = stack._create_output_map()
            try:
                stack.outputs  # noqa: B018 - evaluate now, so a bad output fails the stack, not a describe call
                for export in stack.exports:
                    backend.exports[export.name] = export
            except Exception as error:  # noqa: BLE001
                stack.output_map = _NoOutputs()  # type: ignore[assignment]
                _event(
                    stack,
                    stack.name,
                    stack.stack_id,
                    "AWS::CloudFormation::Stack",
                    "CREATE_FAILED",
                    f"Outputs: {error}",
                )
                failed = stack.name
        if failed is None:
            stack.mark_creation_complete()
            return
        if disable_rollback:
            stack.status = "CREATE_FAILED"
            stack._add_stack_event(
                "CREATE_FAILED", f"The following resource(s) failed to create: [{failed}]."
            )
            return
        stack.status = "ROLLBACK_IN_PROGRESS"
        stack._add_stack_event(
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{failed}]. Rollback requested by user.",
        )
        ok = _delete_resources(stack)
        stack.status = "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED"
        stack._add_stack_event(stack.status)
    finally:
        moto_fixes.STACK_WORKER.stack_id = None
        changes.notify()


def _delete_resources(stack: Stack) -> bool:
    """Delete what the stack created, dependents first, with events; True when nothing failed."""
    resources = stack.template_dict.get("Resources") or {}
    parsed = stack.resource_map._parsed_resources
    ok = True
    for logical_id in reversed(getattr(stack, "standin_order", list(resources))):
        instance = parsed.get(logical_id)
        if instance is None or logical_id not in resources:
            continue
        resource_type = resources[logical_id]["Type"]
        physical = str(getattr(instance, "physical_resource_id", "") or "")
        if resources[logical_id].get("DeletionPolicy") == "Retain":
            _event(stack, logical_id, physical, resource_type, "DELETE_SKIPPED")
            parsed.pop(logical_id, None)
            continue
        _event(stack, logical_id, physical, resource_type, "DELETE_IN_PROGRESS")
        try:
            stack.resource_map._delete_resource(instance, resources[logical_id])
        except Exception as error:  # noqa: BLE001 - reported like CloudFormation, the others still go
            _event(stack, logical_id, physical, resource_type, "DELETE_FAILED", str(error))
            ok = False
            continue
        parsed.pop(logical_id, None)
        _event(stack, logical_id, physical, resource_type, "DELETE_COMPLETE")
    return ok


def _stack_named(backend: Any, name_or_id: str) -> Any | None:
    """The live stack of that id or name, as CloudFormation's calls accept either."""
    return backend.stacks.get(name_or_id) or next(
        (s for s in backend.stacks.values() if s.name == name_or_id), None
    )


def _in_background(
    stack: Any, operation: str, work: Callable[[], None], env: Mapping[str, str] | None
) -> None:
    """Run `work` as the stack's worker thread (a later operation on the stack waits for it). ``env`` is the
    stand-in's ``.env``, kept on the stack for the code it runs (the custom resources' functions)."""
    if env:
        stack.standin_env = dict(env)
    thread = threading.Thread(target=work, name=f"{operation}-{stack.name}", daemon=True)
    stack.standin_thread = thread
    thread.start()


def create_stack_async(
    account_id: str,
    region: str,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    role_arn: str | None = None,
    disable_rollback: bool = False,
    notification_arns: list[str] | None = None,
) -> str:
    """Validate and register a stack, then create its resources in a background thread; returns the StackId.

    ``env`` is the stand-in's ``.env``: what code the stack runs (the custom resource's function) gets so
    its boto3 calls reach the stand-in. Bad templates or parameters raise ``AwsError`` before anything exists.
    """
    stack = _prepare_stack(
        account_id, region, stack_name, template_body, parameters or {}, tags, role_arn, notification_arns
    )
    _in_background(stack, "create", lambda: _create_resources(stack, disable_rollback), env)
    return stack.stack_id


def delete_stack_async(
    account_id: str, region: str, name_or_id: str, env: Mapping[str, str] | None = None
) -> None:
    """Delete a stack's resources in a background thread (DELETE_IN_PROGRESS, then DELETE_COMPLETE and gone
    from ``describe_stacks`` by name, or DELETE_FAILED). A stack that does not exist: nothing, as on AWS."""
    backend = cloudformation_backends[account_id][region]
    stack = _stack_named(backend, name_or_id)
    if stack is None:
        return
    thread = getattr(stack, "standin_thread", None)

    def run() -> None:
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        moto_fixes.STACK_WORKER.stack_id = stack.stack_id
        try:
            stack.status = "DELETE_IN_PROGRESS"
            stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
            if not _delete_resources(stack):
                stack.status = "DELETE_FAILED"
                stack._add_stack_event("DELETE_FAILED", "The following resource(s) failed to delete.")
                return
            for export in list(stack.exports) if isinstance(stack.output_map, parsing.OutputMap) else []:
                backend.exports.pop(export.name, None)
            stack.status = "DELETE_COMPLETE"
            stack._add_stack_event("DELETE_COMPLETE")
            backend.stacks.pop(stack.stack_id, None)
            backend.deleted_stacks[stack.stack_id] = stack
        finally:
            moto_fixes.STACK_WORKER.stack_id = None
            changes.notify()

    _in_background(stack, "delete", run, env)


def update_stack_async(
    account_id: str,
    region: str,
    name_or_id: str,
    template_body: str,
    parameters: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Update a stack with moto's update logic (our types replace or update in place) in a thread."""
    stack = _stack_named(cloudformation_backends[account_id][region], name_or_id)
    if stack is None:
        raise AwsError("ValidationError", f"Stack with id {name_or_id} does not exist")
    if stack.status.endswith("_IN_PROGRESS"):
        raise AwsError(
            "ValidationError", f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    if stack.status in ("ROLLBACK_COMPLETE", "CREATE_FAILED", "ROLLBACK_FAILED"):
        raise AwsError(
            "ValidationError", f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    stack.status = "UPDATE_IN_PROGRESS"

    def run() -> None:
        moto_fixes.STACK_WORKER.stack_id = stack.stack_id
        try:
            refused = stack_role.refusal(stack, Stack.parse_template(template_body))
            if refused:
                name, reason = refused
                stack._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
                resource = stack.template_dict["Resources"][name]
                physical = getattr(stack.resource_map._parsed_resources.get(name), "physical_resource_id", "")
                _event(stack, name, physical, resource["Type"], "UPDATE_FAILED", reason)
                raise RuntimeError(f"The following resource(s) failed to update: [{name}]. ")
            stack.update(
                template_body,
                role_arn=stack.role_arn,
                parameters=dict(parameters or {}),
                tags=dict(tags) if tags is not None else None,
            )
        except Exception as error:  # noqa: BLE001 - the update failed: reported, the stack keeps what it had
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", str(error))
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        finally:
            moto_fixes.STACK_WORKER.stack_id = None
            changes.notify()

    _in_background(stack, "update", run, env)
    return stack.stack_id


def wait_for_stack(account_id: str, region: str, stack_id: str, timeout: float = 600) -> str:
    """Block until the stack's worker is done; returns its status (for tests and callers that need it)."""
    backend = cloudformation_backends[account_id][region]
    stack = backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)
    if stack is None:
        raise KeyError(stack_id)
    thread = getattr(stack, "standin_thread", None)
    if thread is not None:
        thread.join(timeout)
    return stack.status
