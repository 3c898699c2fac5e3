"""The CodePipeline API as the stand-in answers it: CreatePipeline (starts a run), StartPipelineExecution,
GetPipelineState, GetPipelineExecution, ListPipelineExecutions, ListActionExecutions, PutApprovalResult,
StopPipelineExecution. moto stores the pipelines; the engine (`standin.codepipeline.engine`) runs them."""

from __future__ import annotations

from typing import Any

from standin import engines
from standin.codepipeline.engine import PipelineRuntime, runtime_for
from standin.codepipeline.executions import Execution, now
from standin.dispatch import AwsError, Context, operation


def _runtime(ctx: Context) -> PipelineRuntime:
    engines.bind(ctx.standin)
    return runtime_for(ctx.standin, ctx.account_id, ctx.region)


def _pipeline_or_error(rt: PipelineRuntime, name: str) -> dict[str, Any]:
    try:
        return rt.declaration(name)
    except KeyError:
        raise AwsError(
            "PipelineNotFoundException",
            f"Account '{rt.account_id}' does not have a pipeline with name '{name}'",
        ) from None


def _execution_or_error(rt: PipelineRuntime, name: str, execution_id: str) -> Execution:
    _pipeline_or_error(rt, name)
    execution = rt.find(name, execution_id)
    if execution is None:
        raise AwsError(
            "PipelineExecutionNotFoundException",
            f"Pipeline execution with id '{execution_id}' does not exist in pipeline with name '{name}'",
        )
    return execution


@operation("codepipeline", "CreatePipeline")
def create_pipeline(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    answer = ctx.forward_json()
    _runtime(ctx).start(params["pipeline"]["name"], "CreatePipeline", "stand-in")
    return answer


@operation("codepipeline", "StartPipelineExecution")
def start_pipeline_execution(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rt = _runtime(ctx)
    _pipeline_or_error(rt, params.get("name", ""))
    execution = rt.start(params["name"], "StartPipelineExecution", "stand-in API")
    return {"pipelineExecutionId": execution.execution_id}


@operation("codepipeline", "GetPipelineState")
def get_pipeline_state(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rt = _runtime(ctx)
    _pipeline_or_error(rt, params.get("name", ""))
    return rt.state(params["name"])


@operation("codepipeline", "GetPipelineExecution")
def get_pipeline_execution(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rt = _runtime(ctx)
    execution = _execution_or_error(rt, params.get("pipelineName", ""), params.get("pipelineExecutionId", ""))
    return {"pipelineExecution": execution.to_api()}


@operation("codepipeline", "ListPipelineExecutions")
def list_pipeline_executions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rt = _runtime(ctx)
    name = params.get("pipelineName", "")
    _pipeline_or_error(rt, name)
    executions = sorted(rt.executions.get(name, []), key=lambda e: e.start, reverse=True)
    limit = int(params.get("maxResults") or 100)
    return {"pipelineExecutionSummaries": [e.summary_api() for e in executions[:limit]]}


@operation("codepipeline", "ListActionExecutions")
def list_action_executions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rt = _runtime(ctx)
    name = params.get("pipelineName", "")
    _pipeline_or_error(rt, name)
    wanted = (params.get("filter") or {}).get("pipelineExecutionId")
    details = []
    for execution in sorted(rt.executions.get(name, []), key=lambda e: e.start, reverse=True):
        if wanted and execution.execution_id != wanted:
            continue
        for run in reversed(execution.actions):
            details.append(run.detail(name, execution.version))
    if wanted and not details and rt.find(name, wanted) is None:
        raise AwsError("PipelineExecutionNotFoundException", f"Pipeline execution {wanted} not found")
    return {"actionExecutionDetails": details}


@operation("codepipeline", "PutApprovalResult")
def put_approval_result(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rt = _runtime(ctx)
    name = params.get("pipelineName", "")
    declaration = _pipeline_or_error(rt, name)
    stage = next((s for s in declaration.get("stages", []) if s["name"] == params.get("stageName")), None)
    if stage is None:
        raise AwsError("StageNotFoundException", f"Stage {params.get('stageName')} not found in {name}")
    action = next((a for a in stage.get("actions", []) if a["name"] == params.get("actionName")), None)
    if action is None or action.get("actionTypeId", {}).get("category") != "Approval":
        raise AwsError("ActionNotFoundException", f"Approval action {params.get('actionName')} not found")
    result = params.get("result") or {}
    if result.get("status") not in ("Approved", "Rejected"):
        raise AwsError("ValidationException", "result.status must be Approved or Rejected")
    runs = [
        r
        for e in rt.executions.get(name, [])
        for r in e.actions
        if r.stage == stage["name"] and r.name == action["name"]
    ]
    waiting = [r for r in runs if r.status == "InProgress"]
    token = params.get("token")
    match = next((r for r in waiting if r.token == token), None)
    if match is None:
        if any(r.token == token for r in runs):
            raise AwsError(
                "ApprovalAlreadyCompletedException", "This approval request has already been completed"
            )
        raise AwsError(
            "InvalidApprovalTokenException",
            f"The token {token} is not the token of approval action {action['name']} awaiting an answer",
        )
    match.approval = {"status": result["status"], "summary": result.get("summary", "")}
    match.answered.set()
    return {"approvedAt": now()}


@operation("codepipeline", "StopPipelineExecution")
def stop_pipeline_execution(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    rt = _runtime(ctx)
    execution = _execution_or_error(rt, params.get("pipelineName", ""), params.get("pipelineExecutionId", ""))
    if execution.status != "InProgress":
        raise AwsError(
            "PipelineExecutionNotStoppableException",
            f"Pipeline execution {execution.execution_id} is {execution.status} and cannot be stopped",
        )
    execution.stop_requested = params.get("reason") or "Stopped by the API"
    execution.status = "Stopping"
    return {"pipelineExecutionId": execution.execution_id}
