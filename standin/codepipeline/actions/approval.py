"""CodePipeline's Approval action `Manual`: a token in `get_pipeline_state`, waiting until `PutApprovalResult`
answers it; rejected fails the action."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from standin import changes
from standin.codepipeline.executions import ActionFailed, ActionRun, Execution

if TYPE_CHECKING:
    from standin.codepipeline.engine import PipelineRuntime


def approval_action(rt: PipelineRuntime, execution: Execution, run: ActionRun) -> None:
    run.token = str(uuid.uuid4())
    config = run.action.get("configuration", {})
    run.summary = config.get("CustomData")
    changes.notify()  # the token is there: get_pipeline_state shows the approval waiting
    while not run.answered.wait(0.5):
        if execution.stop_requested:
            raise ActionFailed(f"Stopped: {execution.stop_requested}", "Stopped")
    answer = run.approval or {}
    run.summary = answer.get("summary") or run.summary
    if answer.get("status") != "Approved":
        raise ActionFailed(f"Rejected: {answer.get('summary', '')}".strip(), "Rejected")
