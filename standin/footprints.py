"""What AWS leaves behind when the project's code runs, so that a delete can be shown to remove it.

A SageMaker pipeline execution makes an Experiment named after the pipeline and a Trial named after the
execution id, and each of its jobs a trial component associated with that Trial. Jobs log to the account's
shared groups `/aws/sagemaker/ProcessingJobs` and `/aws/sagemaker/TrainingJobs` (one stream per job,
`<job>/algo-1-<epoch seconds>`); a Lambda function logs to `/aws/lambda/<function>`; an endpoint to
`/aws/sagemaker/Endpoints/<endpoint>`. CodeBuild's group is written by the build runner (standin.codebuild).
Everything here goes straight to moto's backends: it is AWS acting, not a caller.
"""

from __future__ import annotations

import threading
import time
from typing import Any

JOB_LOG_GROUP = {"Processing": "/aws/sagemaker/ProcessingJobs", "Training": "/aws/sagemaker/TrainingJobs"}
EVENTS_PER_PUT = 5000  # a batch PutLogEvents takes (AWS's limit is 10,000 events)
TRIAL_COMPONENT_SUFFIX = {"Processing": "-aws-processing-job", "Training": "-aws-training-job"}
# Builds and a pipeline's steps end at the same time and write the same group (create-if-missing is not
# atomic in moto): every footprint is written under this lock.
_lock = threading.RLock()


def _backend(service: str, account_id: str, region: str) -> Any:
    from moto.backends import get_backend

    return get_backend(service)[account_id][region]  # type: ignore[call-overload]


def log_stream(account_id: str, region: str, group: str, stream: str, lines: list[str] | None = None) -> None:
    """Create ``group`` if missing and the stream in it, with ``lines`` as its events."""
    with _lock:
        _log_stream(account_id, region, group, stream, lines)


def _log_stream(account_id: str, region: str, group: str, stream: str, lines: list[str] | None) -> None:
    logs = _backend("logs", account_id, region)
    if group not in logs.groups:
        logs.create_log_group(group, {})
    if stream not in logs.groups[group].streams:
        logs.create_log_stream(group, stream)
    stamp = int(time.time() * 1000)
    lines = lines or []
    for start in range(0, len(lines), EVENTS_PER_PUT):
        events = [{"timestamp": stamp, "message": line} for line in lines[start : start + EVENTS_PER_PUT]]
        logs.put_log_events(group, stream, events)


def execution_started(account_id: str, region: str, pipeline: str, execution_id: str) -> None:
    """The pipeline's Experiment (made on its first execution) and this execution's Trial."""
    with _lock:
        sagemaker = _backend("sagemaker", account_id, region)
        if pipeline not in sagemaker.experiments:
            sagemaker.create_experiment(pipeline)
        if execution_id not in sagemaker.trials:
            sagemaker.create_trial(execution_id, pipeline)


def job_started(account_id: str, region: str, execution_id: str, kind: str, job: str) -> None:
    """A job's log stream in its kind's shared group and its trial component in the execution's Trial."""
    with _lock:
        _job_started(account_id, region, execution_id, kind, job)


def _job_started(account_id: str, region: str, execution_id: str, kind: str, job: str) -> None:
    log_stream(account_id, region, JOB_LOG_GROUP[kind], f"{job}/algo-1-{int(time.time())}")
    sagemaker = _backend("sagemaker", account_id, region)
    component = job + TRIAL_COMPONENT_SUFFIX[kind]
    if component not in sagemaker.trial_components:
        # moto: name, trial, status, start, end, display name, parameters, in and out artifacts, metadata
        empty = [None] * 4
        sagemaker.create_trial_component(
            component, None, {"PrimaryStatus": "InProgress"}, None, None, job, *empty
        )
    if execution_id in sagemaker.trials:
        sagemaker.associate_trial_component(execution_id, component)


def function_invoked(account_id: str, region: str, function: str, stream: str) -> None:
    log_stream(account_id, region, f"/aws/lambda/{function}", stream)


def endpoint_created(account_id: str, region: str, endpoint: str) -> None:
    log_stream(account_id, region, f"/aws/sagemaker/Endpoints/{endpoint}", "AllTraffic/i-0standin")
