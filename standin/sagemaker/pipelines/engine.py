"""SageMaker pipelines' engine: one execution of a stored definition (schema version 2020-12-01).

`PipelineRun` runs each step as soon as its dependencies (`DependsOn` and the steps whose properties its
arguments read) have succeeded, independent steps at the same time as SageMaker does; it reuses
cached steps (`CacheConfig`), follows Condition branches, and runs each step: Processing and Training through
`standin.sagemaker.pipelines.jobs`, Condition, RegisterModel and Fail in-process. Expressions are evaluated by
`standin.sagemaker.pipelines.expressions`.
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from standin import changes
from standin.sagemaker.pipelines.definition import (
    REASON_LIMIT,
    SUPPORTED_VERSION,
    DefinitionError,
    StepFailure,
    parse_expire_after,
    resolve_parameters,
    step_references,
    stringify,
)
from standin.sagemaker.pipelines.expressions import Expressions
from standin.sagemaker.pipelines.jobs import JobRunner
from standin.sagemaker.pipelines.records import CacheEntry, ExecutionRecord, StepCache, StepRecord, now

ClientFactory = Callable[[str], Any]
# What runs a step of one type: (the step, its resolved arguments, its record).
StepKind = Callable[[dict[str, Any], Any, StepRecord], None]


class PipelineRun:
    """One execution of a definition. `run()` blocks; the API layer calls it in a background thread."""

    def __init__(
        self,
        definition: dict[str, Any],
        record: ExecutionRecord,
        clients: ClientFactory,
        workdir: Path,
        cache: StepCache,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
        step_timeout: float = 3600.0,
        jobs: dict[str, dict[str, Any]] | None = None,
        on_job: Callable[[str, str], None] | None = None,
        max_parallel: int | None = None,
    ):
        version = definition.get("Version")
        if version != SUPPORTED_VERSION:
            raise DefinitionError(f"Version: expected {SUPPORTED_VERSION!r}, the definition says {version!r}")
        if not isinstance(definition.get("Steps"), list) or not definition["Steps"]:
            raise DefinitionError("Steps: the definition has no steps")
        self.definition = definition
        self.record = record
        self.clients = clients
        self.workdir = workdir
        self.cache = cache
        self.parameters = resolve_parameters(definition, record.parameters)
        self.step_defs: dict[str, dict[str, Any]] = {}
        self.results: dict[str, StepRecord] = {}
        self.property_files: dict[str, dict[str, dict[str, Any]]] = {}
        self.expressions = Expressions(record, self.parameters, self.results, self.property_files, clients)
        # ParallelismConfiguration.MaxParallelExecutionSteps: how many steps may run at once (None: no limit).
        self.max_parallel = max_parallel
        self.job_runner = JobRunner(record, clients, workdir, env, python, step_timeout, jobs, on_job)
        self._index_steps(definition["Steps"])

    def _index_steps(self, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            for key in ("Name", "Type"):
                if not step.get(key):
                    raise DefinitionError(f"Steps: a step has no {key}: {json.dumps(step)[:200]}")
            if step["Name"] in self.step_defs:
                raise DefinitionError(f"Steps: the step name {step['Name']!r} is used twice")
            self.step_defs[step["Name"]] = step
            self.property_files[step["Name"]] = {
                pf["PropertyFileName"]: pf for pf in step.get("PropertyFiles", [])
            }
            if step["Type"] == "Condition":
                args = step.get("Arguments", {})
                self._index_steps(args.get("IfSteps", []) + args.get("ElseSteps", []))

    # ---------------------------------------------------------------- expressions
    def execution_variables(self) -> dict[str, Any]:
        return self.expressions.execution_variables()

    def resolve(self, value: Any, keep_execution: bool = False) -> Any:
        """Evaluate expressions (see `Expressions.resolve`)."""
        return self.expressions.resolve(value, keep_execution)

    def evaluate(self, condition: dict[str, Any]) -> bool:
        return self.expressions.evaluate(condition)

    # ---------------------------------------------------------------- scheduling
    def dependencies(self, step: dict[str, Any]) -> set[str]:
        deps = set(step.get("DependsOn", [])) | step_references(step.get("Arguments", {}))
        if step["Type"] == "Condition":
            deps = set(step.get("DependsOn", [])) | step_references(
                step.get("Arguments", {}).get("Conditions", [])
            )
        unknown = deps - set(self.step_defs)
        if unknown:
            raise DefinitionError(
                f"Steps.{step['Name']}: depends on unknown step(s) {', '.join(sorted(unknown))}"
            )
        return deps

    def run(self) -> ExecutionRecord:
        record = self.record
        try:
            for step in self.step_defs.values():
                self.dependencies(step)  # an unknown step name fails the execution before any step runs
            failed = self._run_concurrently(list(self.definition["Steps"]))
            if failed is not None:
                record.status = "Failed"
                record.failure_reason = f"Step {failed.name} failed: {failed.failure_reason}"
            elif record.status == "Executing":
                record.status = "Succeeded"
            elif record.status == "Stopping":
                record.status = "Stopped"
        except Exception as exc:  # noqa: BLE001 - the execution must end with a reason, never hang in Executing
            record.status = "Failed"
            record.failure_reason = f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]
        finally:
            record.last_modified = now()
            record.done.set()
            changes.notify()
        return record

    def _run_concurrently(self, pending: list[dict[str, Any]]) -> StepRecord | None:
        """Start every step whose dependencies succeeded, each on its own thread, as SageMaker does (at most
        `max_parallel` at once); returns the first step that failed. After a failure, or once the execution
        is stopping, nothing new starts and the running steps finish."""
        ready = threading.Condition()
        running: set[str] = set()
        failures: list[StepRecord] = []

        def work(step: dict[str, Any]) -> None:
            result: StepRecord | None = None
            try:
                result = self.run_step(step)
            finally:
                with ready:
                    running.discard(step["Name"])
                    if result is None or result.status != "Succeeded":
                        failures.append(result or self.results[step["Name"]])
                    elif step["Type"] == "Condition":
                        branch = "IfSteps" if result.properties["Outcome"] else "ElseSteps"
                        pending.extend(step["Arguments"].get(branch, []))
                    ready.notify_all()

        with ready:
            while True:
                if not failures and self.record.status == "Executing":
                    for step in [s for s in pending if self._ready(s)]:
                        if self.max_parallel and len(running) >= self.max_parallel:
                            break
                        pending.remove(step)
                        running.add(step["Name"])
                        name = f"sm-step-{self.record.execution_id}-{step['Name']}"
                        threading.Thread(target=work, args=(step,), name=name, daemon=True).start()
                if not running:
                    return failures[0] if failures else None
                ready.wait()

    def _ready(self, step: dict[str, Any]) -> bool:
        return all(
            d in self.results and self.results[d].status == "Succeeded" for d in self.dependencies(step)
        )

    def run_step(self, step: dict[str, Any]) -> StepRecord:
        result = StepRecord(
            name=step["Name"],
            type=step["Type"],
            display_name=step.get("DisplayName"),
            description=step.get("Description"),
        )
        self.record.steps.append(result)
        self.results[step["Name"]] = result
        result.status = "Executing"
        self.record.last_modified = now()
        changes.notify()
        try:
            arguments = self.resolve(step.get("Arguments", {})) if step["Type"] != "Condition" else None
            cache_config = step.get("CacheConfig") or {}
            cache_key = None
            if cache_config.get("Enabled") and step["Type"] in ("Processing", "Training"):
                unresolved = self.resolve(step.get("Arguments", {}), keep_execution=True)
                cache_key = StepCache.key(self.record.pipeline_name, step, unresolved)
                hit = self.cache.get(cache_key, parse_expire_after(cache_config.get("ExpireAfter")))
                if hit is not None:
                    result.properties = hit.properties
                    result.metadata = hit.metadata
                    result.cache_source = hit.execution_arn
                    result.status = "Succeeded"
                    return result
            handlers: dict[str, StepKind] = {
                "Processing": self.job_runner.processing,
                "Training": self.job_runner.training,
                "Condition": self._condition,
                "RegisterModel": self._register_model,
                "Fail": self._fail,
            }
            handler = handlers.get(step["Type"])
            if handler is None:
                raise StepFailure(f"the stand-in cannot run steps of type {step['Type']!r}")
            handler(step, arguments, result)
            result.status = "Succeeded"
            if cache_key:
                self.cache.put(
                    cache_key, CacheEntry(self.record.arn, result.properties, result.metadata, now())
                )
        except StepFailure as exc:
            result.status = "Failed"
            result.failure_reason = exc.reason
            result.metadata.update(exc.metadata)
        except DefinitionError as exc:
            result.status = "Failed"
            result.failure_reason = str(exc)[:REASON_LIMIT]
        except Exception as exc:  # noqa: BLE001 - any other failure of a step is the step's failure, with its reason
            result.status = "Failed"
            result.failure_reason = f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]
            traceback.print_exc()
        finally:
            result.end_time = now()
            self.record.last_modified = result.end_time
            changes.notify()
        return result

    # ---------------------------------------------------------------- step types
    def _condition(self, step: dict[str, Any], _arguments: Any, result: StepRecord) -> None:
        conditions = step.get("Arguments", {}).get("Conditions", [])
        outcome = all(self.evaluate(c) for c in conditions)
        result.properties = {"Outcome": outcome}
        result.metadata = {"Condition": {"Outcome": "True" if outcome else "False"}}

    def _fail(self, _step: dict[str, Any], arguments: dict[str, Any], result: StepRecord) -> None:
        message = stringify(arguments.get("ErrorMessage", ""))
        raise StepFailure(message, {"Fail": {"ErrorMessage": message}})

    def _register_model(self, _step: dict[str, Any], arguments: dict[str, Any], result: StepRecord) -> None:
        sagemaker = self.clients("sagemaker")
        group = arguments.get("ModelPackageGroupName")
        if group:
            try:
                sagemaker.describe_model_package_group(ModelPackageGroupName=group)
            except Exception:  # noqa: BLE001 - as the SDK's RegisterModel does: create the group on first use
                sagemaker.create_model_package_group(ModelPackageGroupName=group)
        allowed = set(sagemaker.meta.service_model.operation_model("CreateModelPackage").input_shape.members)
        request = {k: v for k, v in arguments.items() if k in allowed}
        try:
            arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
        except Exception as exc:
            raise StepFailure(f"CreateModelPackage failed: {exc}") from exc
        result.properties = {"ModelPackageArn": arn, **request}
        result.metadata = {"RegisterModel": {"Arn": arn}}
