"""The SageMaker pipeline execution API as the stand-in answers it: Start/Describe/List/StopPipelineExecution,
ListPipelineExecutionSteps, Describe{Processing,Training}Job of the jobs pipelines ran, and DeletePipeline
(refused while an execution runs). moto stores the pipelines; `PipelineRun` runs an execution in a thread."""

from __future__ import annotations

import json
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standin import engines, footprints
from standin.dispatch import AwsError, Context, operation
from standin.sagemaker.pipelines.definition import DefinitionError, resolve_parameters
from standin.sagemaker.pipelines.engine import PipelineRun
from standin.sagemaker.pipelines.records import ExecutionRecord, StepCache


@dataclass
class PipelinesState:
    """Per stand-in, account and region: the executions this layer ran and the step cache."""

    executions: dict[str, ExecutionRecord] = field(default_factory=dict)
    cache: StepCache = field(default_factory=StepCache)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


RUNNING = ("Executing", "Stopping")
# The executions running now, per stand-in (engine state "sagemaker_pipeline_runs"): a reset clears the
# layer's stores, so it reaches the running ones through these.
_LIVE_LOCK = threading.Lock()


@engines.stops_with("sagemaker_pipeline_runs")
def stop_all_running(live: dict[str, ExecutionRecord]) -> None:
    """On the stand-in's reset or stop: its running executions stop after their current step."""
    with _LIVE_LOCK:
        for record in live.values():
            if record.status == "Executing":
                record.status = "Stopping"


def _state(ctx: Context) -> PipelinesState:
    return ctx.store("sagemaker_pipelines", PipelinesState)


def _pipeline_name(value: str) -> str:
    """A name or an ARN (`arn:aws:sagemaker:r:a:pipeline/name`) → the name."""
    return value.split(":pipeline/", 1)[1].split("/", 1)[0] if ":pipeline/" in value else value


def _execution(ctx: Context, arn: str) -> ExecutionRecord:
    record = _state(ctx).executions.get(arn or "")
    if record is None:
        raise AwsError("ResourceNotFound", f"Pipeline execution {arn} does not exist.", 400)
    return record


def _workdir(ctx: Context) -> Path:
    base = getattr(ctx.standin, "state_dir", None)
    root = Path(base) / "sagemaker-pipelines" if base else Path(tempfile.mkdtemp(prefix="standin-pipelines-"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def start_execution(ctx: Context, params: dict[str, Any]) -> ExecutionRecord:
    """Validate, record in moto's backend and in our state, and run in a background thread."""
    name = _pipeline_name(params.get("PipelineName", ""))
    backend = ctx.backend("sagemaker")
    pipeline = backend.pipelines.get(name)
    if pipeline is None:
        raise AwsError(
            "ResourceNotFound", f"Pipeline {name!r} does not exist; create it with create_pipeline.", 400
        )
    try:
        definition = json.loads(pipeline.pipeline_definition)
    except (TypeError, ValueError) as exc:
        raise AwsError(
            "ValidationException", f"PipelineDefinition of {name} is not JSON: {exc}", 400
        ) from exc
    parameters = params.get("PipelineParameters") or []
    try:
        resolve_parameters(definition, parameters)
    except DefinitionError as exc:
        raise AwsError("ValidationException", str(exc), 400) from exc
    arn = backend.start_pipeline_execution(
        name,
        params.get("PipelineExecutionDisplayName"),
        parameters,
        params.get("PipelineExecutionDescription"),
        params.get("ParallelismConfiguration"),
        params.get("ClientRequestToken"),
    )["PipelineExecutionArn"]
    moto_record = pipeline.pipeline_executions[arn]
    moto_record.pipeline_execution_status = "Executing"
    record = ExecutionRecord(
        arn=arn,
        pipeline_name=name,
        pipeline_arn=pipeline.arn,
        execution_id=arn.rsplit("/", 1)[-1],
        parameters=parameters,
        display_name=params.get("PipelineExecutionDisplayName"),
        description=params.get("PipelineExecutionDescription"),
    )
    state = _state(ctx)
    with state.lock:
        state.executions[arn] = record
    standin = ctx.standin
    region = ctx.region

    def clients(service: str) -> Any:
        return engines.client(standin, service, region)

    env = dict(standin.env) if standin is not None else {}
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    account = ctx.account_id
    footprints.execution_started(account, region, name, record.execution_id)

    def on_job(kind: str, job: str) -> None:
        footprints.job_started(account, region, record.execution_id, kind, job)

    parallelism = params.get("ParallelismConfiguration") or pipeline.parallelism_configuration or {}

    try:
        run = PipelineRun(
            definition,
            record,
            clients,
            _workdir(ctx),
            state.cache,
            env,
            jobs=state.jobs,
            on_job=on_job,
            max_parallel=parallelism.get("MaxParallelExecutionSteps"),
        )
    except DefinitionError as exc:
        record.status, record.failure_reason = "Failed", str(exc)
        record.done.set()
        moto_record.pipeline_execution_status = "Failed"
        return record

    live: dict[str, ExecutionRecord] = engines.engine_state(standin, "sagemaker_pipeline_runs", dict)

    def work() -> None:
        with _LIVE_LOCK:
            live[record.arn] = record
        try:
            run.run()
        finally:
            with _LIVE_LOCK:
                live.pop(record.arn, None)
        moto_record.pipeline_execution_status = record.status
        moto_record.pipeline_execution_failure_reason = record.failure_reason

    threading.Thread(target=work, name=f"sm-pipeline-{record.execution_id}", daemon=True).start()
    return record


@operation("sagemaker", "StartPipelineExecution")
def start_pipeline_execution(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    engines.bind(ctx.standin)
    return {"PipelineExecutionArn": start_execution(ctx, params).arn}


@operation("sagemaker", "DescribePipelineExecution")
def describe_pipeline_execution(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _execution(ctx, params.get("PipelineExecutionArn", "")).describe()


@operation("sagemaker", "ListPipelineExecutions")
def list_pipeline_executions(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = _pipeline_name(params.get("PipelineName", ""))
    if name not in ctx.backend("sagemaker").pipelines:
        raise AwsError("ResourceNotFound", f"Pipeline {name!r} does not exist.", 400)
    records = [r for r in _state(ctx).executions.values() if r.pipeline_name == name]
    records.sort(key=lambda r: r.start_time, reverse=params.get("SortOrder", "Descending") == "Descending")
    return {"PipelineExecutionSummaries": [r.summary() for r in records]}


@operation("sagemaker", "ListPipelineExecutionSteps")
def list_pipeline_execution_steps(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    record = _execution(ctx, params.get("PipelineExecutionArn", ""))
    steps = [s.to_api() for s in list(record.steps)]
    if params.get("SortOrder", "Descending") == "Descending":
        steps.reverse()
    return {"PipelineExecutionSteps": steps}


def _describe_job(ctx: Context, params: dict[str, Any], kind: str) -> dict[str, Any]:
    """A job a pipeline ran, as Describe{Processing,Training}Job shows it; any other job is moto's."""
    job = _state(ctx).jobs.get(params.get(f"{kind}JobName", ""))
    if job is None or f"{kind}JobStatus" not in job:
        return ctx.forward_json()
    return job


@operation("sagemaker", "DescribeProcessingJob")
def describe_processing_job(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _describe_job(ctx, params, "Processing")


@operation("sagemaker", "DescribeTrainingJob")
def describe_training_job(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _describe_job(ctx, params, "Training")


@operation("sagemaker", "DeletePipeline")
def delete_pipeline(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = _pipeline_name(params.get("PipelineName", ""))
    state = _state(ctx)
    running = [r for r in state.executions.values() if r.pipeline_name == name and r.status in RUNNING]
    if running:
        raise AwsError(
            "ConflictException",
            f"Pipeline {name} has running executions ({running[0].arn}); stop them with "
            "StopPipelineExecution before deleting the pipeline.",
            400,
        )
    answer = ctx.forward_json()
    with state.lock:  # deleting a pipeline deletes its executions
        for arn in [a for a, r in state.executions.items() if r.pipeline_name == name]:
            del state.executions[arn]
    return answer


@operation("sagemaker", "StopPipelineExecution")
def stop_pipeline_execution(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    record = _execution(ctx, params.get("PipelineExecutionArn", ""))
    # A running local step is not interrupted; the execution reports Stopping until it ends.
    if record.status == "Executing":
        record.status = "Stopping"
    return {"PipelineExecutionArn": record.arn}
