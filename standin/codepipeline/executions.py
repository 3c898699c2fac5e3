"""CodePipeline's execution records: executions, action executions and what the API shows of them."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from standin.dispatch import present


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ActionFailed(Exception):
    """The action failed; the message is what `get_pipeline_state` shows in `errorDetails`."""

    def __init__(self, message: str, code: str = "JobFailed"):
        super().__init__(message)
        self.message = message[:1500]
        self.code = code


class Superseded(Exception):
    pass


@dataclass
class ActionRun:
    execution_id: str
    stage: str
    action: dict[str, Any]
    action_execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    start: dt.datetime = field(default_factory=now)
    updated: dt.datetime = field(default_factory=now)
    summary: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    error: dict[str, str] | None = None
    token: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    output_variables: dict[str, str] = field(default_factory=dict)
    answered: threading.Event = field(default_factory=threading.Event)
    approval: dict[str, str] | None = None
    build: Any = None

    @property
    def name(self) -> str:
        return self.action["name"]

    def latest(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "actionExecutionId": self.action_execution_id,
            "status": self.status,
            "lastStatusChange": self.updated,
            **present(
                summary=self.summary,
                externalExecutionId=self.external_id,
                externalExecutionUrl=self.external_url,
                errorDetails=self.error,
            ),
        }
        if self.token and self.status == "InProgress":
            out["token"] = self.token
        return out

    def detail(self, pipeline: str, version: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.external_id or self.summary:
            result["executionResult"] = {
                k: v
                for k, v in {
                    "externalExecutionId": self.external_id,
                    "externalExecutionSummary": self.summary,
                    "externalExecutionUrl": self.external_url,
                }.items()
                if v
            }
        if self.error:
            result.setdefault("executionResult", {})["errorDetails"] = self.error
        return {
            "pipelineExecutionId": self.execution_id,
            "actionExecutionId": self.action_execution_id,
            "pipelineVersion": version,
            "stageName": self.stage,
            "actionName": self.name,
            "startTime": self.start,
            "lastUpdateTime": self.updated,
            "status": self.status,
            "input": {
                "actionTypeId": self.action.get("actionTypeId", {}),
                "configuration": self.action.get("configuration", {}),
                "resolvedConfiguration": self.action.get("configuration", {}),
                "roleArn": self.action.get("roleArn", ""),
                "region": self.action.get("region", ""),
                "inputArtifacts": self.inputs,
                "namespace": self.action.get("namespace", ""),
            },
            "output": {"outputArtifacts": self.outputs, **result, "outputVariables": self.output_variables},
        }


@dataclass
class Execution:
    pipeline: str
    version: int
    mode: str
    trigger: dict[str, str]
    execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    summary: str | None = None
    start: dt.datetime = field(default_factory=now)
    updated: dt.datetime = field(default_factory=now)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)
    actions: list[ActionRun] = field(default_factory=list)
    stage_status: dict[str, str] = field(default_factory=dict)
    stop_requested: str | None = None
    source_revision: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def to_api(self) -> dict[str, Any]:
        return {
            "pipelineName": self.pipeline,
            "pipelineVersion": self.version,
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "artifactRevisions": self.revisions,
            **self._how_started(),
        }

    def _how_started(self) -> dict[str, Any]:
        """What GetPipelineExecution and ListPipelineExecutions both say of how the run started and ended."""
        return {
            "trigger": self.trigger,
            "executionMode": self.mode,
            "executionType": "STANDARD",
            **present(statusSummary=self.summary),
        }

    def summary_api(self) -> dict[str, Any]:
        return {
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "startTime": self.start,
            "lastUpdateTime": self.updated,
            "sourceRevisions": [
                {
                    "actionName": r["name"],
                    "revisionId": r["revisionId"],
                    "revisionSummary": r.get("revisionSummary", ""),
                }
                for r in self.revisions
            ],
            **self._how_started(),
        }
