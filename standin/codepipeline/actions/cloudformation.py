"""CodePipeline's Deploy action `CloudFormation`: `CREATE_UPDATE`, `REPLACE_ON_FAILURE` (a stack in a
failed state is deleted and created again) and `DELETE_ONLY` through the stand-in's stacks; `TemplatePath`
and `TemplateConfiguration` as `Artifact::file`, `ParameterOverrides`, `RoleArn`; outputs become output
variables."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from standin import cloudformation as cfn
from standin.codepipeline.executions import ActionFailed, ActionRun, Execution
from standin.dispatch import AwsError

if TYPE_CHECKING:
    from standin.codepipeline.engine import PipelineRuntime

FAILED_STACK_STATES = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"}
STACK_TIMEOUT = 900.0


def cloudformation_action(rt: PipelineRuntime, execution: Execution, run: ActionRun) -> None:
    config = run.action.get("configuration", {})
    mode = config.get("ActionMode", "")
    stack_name = config.get("StackName")
    if not stack_name:
        raise ActionFailed("configuration.StackName is required", "ConfigurationError")
    backend = rt.backend("cloudformation")
    existing = next(
        (s for s in backend.stacks.values() if s.name == stack_name and s.status != "DELETE_COMPLETE"),
        None,
    )
    env = dict(getattr(rt.standin, "env", {}) or {})
    if mode == "DELETE_ONLY":
        if existing is not None:
            cfn.delete_stack_async(rt.account_id, rt.region, stack_name, env)
            _wait_stack(rt, existing.stack_id, stack_name)
        run.summary = f"Stack {stack_name} deleted"
        return
    if mode not in ("CREATE_UPDATE", "REPLACE_ON_FAILURE"):
        raise ActionFailed(
            f"configuration.ActionMode {mode!r}: the stand-in runs CREATE_UPDATE, REPLACE_ON_FAILURE and "
            "DELETE_ONLY",
            "ConfigurationError",
        )
    template = _artifact_file(rt, execution, run, config.get("TemplatePath", ""), "TemplatePath").decode()
    parameters: dict[str, str] = {}
    tags: dict[str, str] = {}
    if config.get("TemplateConfiguration"):
        raw = _artifact_file(rt, execution, run, config["TemplateConfiguration"], "TemplateConfiguration")
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise ActionFailed(f"configuration.TemplateConfiguration is not JSON: {exc}") from exc
        parameters.update({k: str(v) for k, v in (document.get("Parameters") or {}).items()})
        tags.update({k: str(v) for k, v in (document.get("Tags") or {}).items()})
    if config.get("ParameterOverrides"):
        try:
            parameters.update({k: str(v) for k, v in json.loads(config["ParameterOverrides"]).items()})
        except ValueError as exc:
            raise ActionFailed(f"configuration.ParameterOverrides is not JSON: {exc}") from exc
    if existing is not None and existing.status in FAILED_STACK_STATES:
        if mode == "CREATE_UPDATE":
            raise ActionFailed(
                f"Stack {stack_name} is in {existing.status} state and can not be updated "
                "(REPLACE_ON_FAILURE would replace it)"
            )
        cfn.delete_stack_async(rt.account_id, rt.region, stack_name, env)
        _wait_stack(rt, existing.stack_id, stack_name)
        existing = None
    try:
        if existing is None:
            stack_id = cfn.create_stack_async(
                rt.account_id,
                rt.region,
                stack_name,
                template,
                parameters,
                tags,
                env,
                role_arn=config.get("RoleArn"),
            )
            expected = "CREATE_COMPLETE"
        else:
            stack_id = cfn.update_stack_async(
                rt.account_id, rt.region, stack_name, template, parameters, tags or None, env
            )
            expected = "UPDATE_COMPLETE"
    except AwsError as exc:
        raise ActionFailed(f"Stack {stack_name}: {exc.code}: {exc.message}") from exc
    run.external_id = stack_id
    status = _wait_stack(rt, stack_id, stack_name)
    if status != expected:
        raise ActionFailed(f"Stack {stack_name} ended in {status}: {_stack_reason(rt, stack_id)}")
    stack = backend.stacks.get(stack_id)
    try:
        outputs = (stack.outputs if stack is not None else None) or []
    except Exception:  # noqa: BLE001 - an output moto cannot render must not fail a stack that was made
        outputs = []
    run.output_variables = {o["OutputKey"]: str(o["OutputValue"]) for o in outputs}
    run.summary = f"Stack {stack_name} {status}"


def _artifact_file(
    rt: PipelineRuntime, execution: Execution, run: ActionRun, reference: str, field_name: str
) -> bytes:
    if "::" not in reference:
        raise ActionFailed(
            f"configuration.{field_name} must be ArtifactName::path, got {reference!r}",
            "ConfigurationError",
        )
    artifact, path = reference.split("::", 1)
    folder = rt.action_dir(execution, run) / "in" / artifact
    if not folder.exists():
        rt.get_artifact(execution, run, artifact, folder)
    target = folder / path
    if not target.is_file():
        raise ActionFailed(f"configuration.{field_name}: {path} not found in artifact {artifact}")
    return target.read_bytes()


def _wait_stack(rt: PipelineRuntime, stack_id: str, name: str) -> str:
    return cfn.wait_for_stack(rt.account_id, rt.region, stack_id, STACK_TIMEOUT)


def _stack_reason(rt: PipelineRuntime, stack_id: str) -> str:
    backend = rt.backend("cloudformation")
    stack = backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)
    for event in reversed(getattr(stack, "events", []) or []):
        if str(event.resource_status).endswith("FAILED") and event.resource_status_reason:
            return f"{event.logical_resource_id}: {event.resource_status_reason}"
    return "no failure reason recorded"
