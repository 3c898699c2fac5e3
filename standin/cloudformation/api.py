"""CloudFormation's API where it changes stacks (``CreateStack``, ``UpdateStack``, ``DeleteStack``),
answered by the stand-in's stack engine; moto answers the rest (describe, list, events, outputs)."""

from __future__ import annotations

from typing import cast

from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.utils import get_stack_from_s3_url

from standin.cloudformation.stacks import create_stack_async, delete_stack_async, update_stack_async
from standin.dispatch import AwsError, Context, operation


def _members(params: dict, prefix: str, key: str, value: str) -> dict[str, str]:
    found: dict[str, str] = {}
    index = 1
    while f"{prefix}.member.{index}.{key}" in params:
        found[params[f"{prefix}.member.{index}.{key}"]] = params.get(f"{prefix}.member.{index}.{value}", "")
        index += 1
    return found


def _template_from(ctx: Context, params: dict) -> str:
    if params.get("TemplateBody"):
        return params["TemplateBody"]
    if params.get("TemplateURL"):
        try:
            return get_stack_from_s3_url(params["TemplateURL"], account_id=ctx.account_id, partition="aws")
        except Exception as error:
            raise AwsError("ValidationError", f"TemplateURL must be a reachable S3 URL: {error}") from error
    raise AwsError("ValidationError", "Either Template URL or Template Body must be specified.")


@operation("cloudformation", "CreateStack")
def create_stack(ctx: Context, params: dict) -> dict:
    stack_id = create_stack_async(
        ctx.account_id,
        ctx.region,
        params.get("StackName", ""),
        _template_from(ctx, params),
        parameters=_members(params, "Parameters", "ParameterKey", "ParameterValue"),
        tags=_members(params, "Tags", "Key", "Value"),
        env=getattr(ctx.standin, "env", None),
        role_arn=params.get("RoleARN"),
        disable_rollback=str(params.get("DisableRollback", "false")).lower() == "true"
        or params.get("OnFailure") == "DO_NOTHING",
    )
    return {"StackId": stack_id}


@operation("cloudformation", "DeleteStack")
def delete_stack(ctx: Context, params: dict) -> dict:
    delete_stack_async(
        ctx.account_id, ctx.region, params.get("StackName", ""), getattr(ctx.standin, "env", None)
    )
    return {}


@operation("cloudformation", "UpdateStack")
def update_stack(ctx: Context, params: dict) -> dict:
    backend = cloudformation_backends[ctx.account_id][ctx.region]
    name = params.get("StackName", "")
    stack = backend.stacks.get(name) or next((s for s in backend.stacks.values() if s.name == name), None)
    if stack is None:
        raise AwsError("ValidationError", f"Stack [{name}] does not exist")
    if str(params.get("UsePreviousTemplate", "")).lower() == "true":
        template = cast(str, stack.template)
    else:
        template = _template_from(ctx, params)
    values = _members(params, "Parameters", "ParameterKey", "ParameterValue")
    index = 1
    while f"Parameters.member.{index}.ParameterKey" in params:
        key = params[f"Parameters.member.{index}.ParameterKey"]
        if str(params.get(f"Parameters.member.{index}.UsePreviousValue", "")).lower() == "true":
            values[key] = stack.parameters.get(key, "")
        index += 1
    tags = _members(params, "Tags", "Key", "Value") or None
    stack_id = update_stack_async(
        ctx.account_id, ctx.region, name, template, values, tags, getattr(ctx.standin, "env", None)
    )
    return {"StackId": stack_id}
