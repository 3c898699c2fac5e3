"""SageMaker pipeline executions as the API shows them: execution and step records, and the step cache."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from standin.dispatch import present


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class StepRecord:
    name: str
    type: str
    display_name: str | None = None
    description: str | None = None
    status: str = "Starting"
    start_time: dt.datetime = field(default_factory=now)
    end_time: dt.datetime | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    cache_source: str | None = None
    log_path: str | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StepName": self.name,
            "StartTime": self.start_time,
            "StepStatus": self.status,
            "Metadata": self.metadata,
            "AttemptCount": 1,
            **present(
                StepDisplayName=self.display_name,
                StepDescription=self.description,
                EndTime=self.end_time,
                FailureReason=self.failure_reason,
            ),
        }
        if self.cache_source:
            out["CacheHitResult"] = {"SourcePipelineExecutionArn": self.cache_source}
        return out


@dataclass
class ExecutionRecord:
    arn: str
    pipeline_name: str
    pipeline_arn: str
    execution_id: str
    parameters: list[dict[str, str]]
    display_name: str | None = None
    description: str | None = None
    status: str = "Executing"
    failure_reason: str | None = None
    start_time: dt.datetime = field(default_factory=now)
    last_modified: dt.datetime = field(default_factory=now)
    steps: list[StepRecord] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        return {
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionArn": self.arn,
            "PipelineExecutionDisplayName": self.display_name or f"execution-{self.execution_id}",
            "PipelineExecutionStatus": self.status,
            "CreationTime": self.start_time,
            "LastModifiedTime": self.last_modified,
            "PipelineExperimentConfig": {
                "ExperimentName": self.pipeline_name,
                "TrialName": self.execution_id,
            },
            **present(PipelineExecutionDescription=self.description, FailureReason=self.failure_reason),
        }

    def summary(self) -> dict[str, Any]:
        return {
            "PipelineExecutionArn": self.arn,
            "StartTime": self.start_time,
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDisplayName": self.display_name or f"execution-{self.execution_id}",
            **present(
                PipelineExecutionDescription=self.description,
                PipelineExecutionFailureReason=self.failure_reason,
            ),
        }


@dataclass
class CacheEntry:
    execution_arn: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    time: dt.datetime


class StepCache:
    """Successful steps by (pipeline, step, resolved arguments): what `CacheConfig` lets a later run reuse."""

    def __init__(self) -> None:
        self._entries: dict[str, CacheEntry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(pipeline: str, step: dict[str, Any], arguments: Any) -> str:
        blob = json.dumps(
            {"pipeline": pipeline, "name": step["Name"], "type": step["Type"], "args": arguments},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str, expire_after: dt.timedelta | None) -> CacheEntry | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry and expire_after is not None and now() - entry.time > expire_after:
            return None
        return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries[key] = entry
