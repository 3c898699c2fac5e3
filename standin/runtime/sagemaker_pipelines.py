"""Interpreter of stored SageMaker pipeline definitions (schema version 2020-12-01).

`PipelineRun` resolves parameters, execution variables, `Std:Join`, `Std:JsonGet` and `Get` property
references, orders steps by their dependencies, reuses cached steps, and runs Processing and Training steps as
local subprocesses in SageMaker's directory layout (`/opt/ml` mapped to a folder); Condition, RegisterModel
and Fail steps run in-process. The API handlers at the end answer the pipeline execution calls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import re
import shlex
import string
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standin import footprints
from standin.runtime import s3util

SUPPORTED_VERSION = "2020-12-01"
OPT_ML = "/opt/ml"
# Only the tail of a failing script's stderr goes into FailureReason (AWS caps reasons at 1024 characters).
REASON_LIMIT = 1024

ClientFactory = Callable[[str], Any]


class DefinitionError(ValueError):
    """The stored definition or the start call is malformed; the message names the field."""


class StepFailure(Exception):
    """A step failed; `reason` is what list_pipeline_execution_steps shows as FailureReason."""

    def __init__(self, reason: str, metadata: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason = reason[:REASON_LIMIT]
        self.metadata = metadata or {}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class StepRecord:
    name: str
    type: str
    display_name: str | None = None
    description: str | None = None
    status: str = "Starting"
    start_time: dt.datetime = field(default_factory=_now)
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
        }
        if self.display_name:
            out["StepDisplayName"] = self.display_name
        if self.description:
            out["StepDescription"] = self.description
        if self.end_time:
            out["EndTime"] = self.end_time
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
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
    start_time: dt.datetime = field(default_factory=_now)
    last_modified: dt.datetime = field(default_factory=_now)
    steps: list[StepRecord] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
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
        }
        if self.description:
            out["PipelineExecutionDescription"] = self.description
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
        return out

    def summary(self) -> dict[str, Any]:
        out = {
            "PipelineExecutionArn": self.arn,
            "StartTime": self.start_time,
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDisplayName": self.display_name or f"execution-{self.execution_id}",
        }
        if self.description:
            out["PipelineExecutionDescription"] = self.description
        if self.failure_reason:
            out["PipelineExecutionFailureReason"] = self.failure_reason
        return out


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
        if entry and expire_after is not None and _now() - entry.time > expire_after:
            return None
        return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries[key] = entry


_DURATION = re.compile(
    r"^P?(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T?(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$",
    re.IGNORECASE,
)


def parse_expire_after(value: str | None) -> dt.timedelta | None:
    """ISO 8601 durations as `CacheConfig.ExpireAfter` takes them (`P30D`, `PT1H`, the SDK's `30d`)."""
    if not value:
        return None
    text = value.strip()
    match = _DURATION.match(text)
    if not match or not any(match.groupdict().values()):
        raise DefinitionError(
            f"CacheConfig.ExpireAfter: {value!r} is not an ISO 8601 duration such as P30D or PT12H"
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    days = parts.get("days", 0) + 7 * parts.get("weeks", 0) + 30 * parts.get("months", 0)
    days += 365 * parts.get("years", 0)
    return dt.timedelta(
        days=days,
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


_TOKEN = re.compile(r"\.?([A-Za-z0-9_\-]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def parse_path(path: str) -> list[str | int]:
    """`Steps.X.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri` → ['Steps', 'X', ..., 'train', ...]"""
    tokens: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            raise DefinitionError(f"Get: cannot parse the property path {path!r} at position {pos}")
        name, index, key1, key2 = match.groups()
        if index is not None:
            tokens.append(int(index))
        else:
            tokens.append(name if name is not None else (key1 if key1 is not None else key2))
        pos = match.end()
    return tokens


def walk(value: Any, tokens: list[str | int], where: str) -> Any:
    """Follow tokens through dicts and lists; a string index into a list selects the item it names."""
    for token in tokens:
        if (isinstance(value, dict) and token in value) or (
            isinstance(value, list) and isinstance(token, int) and token < len(value)
        ):
            value = value[token]
        elif isinstance(value, list) and isinstance(token, str):
            named = [
                item
                for item in value
                if isinstance(item, dict) and any(k.endswith("Name") and v == token for k, v in item.items())
            ]
            if not named:
                raise DefinitionError(f"{where}: no item named {token!r}")
            value = named[0]
        else:
            raise DefinitionError(f"{where}: no property {token!r}")
    return value


def json_path(document: Any, path: str, where: str) -> Any:
    """The subset of JsonPath the SDK writes: dotted keys and [n] indexes (`regression_metrics.mse.value`)."""
    text = path[2:] if path.startswith("$.") else path
    return walk(document, parse_path(text), where)


def step_references(value: Any) -> set[str]:
    """Names of the steps a value reads from (`Get: Steps.X...`)."""
    found: set[str] = set()
    if isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            found.add(str(parse_path(get)[1]))
        for item in value.values():
            found |= step_references(item)
    elif isinstance(value, list):
        for item in value:
            found |= step_references(item)
    return found


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _job_name(execution_id: str, step_name: str) -> str:
    clean = re.sub(r"[^a-zA-Z0-9-]", "-", step_name).strip("-")
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    return f"pipelines-{execution_id}-{clean[:30]}-{suffix}"[:63]


def new_execution_id() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


def _coerce_parameter(spec: dict[str, Any], raw: Any) -> Any:
    kind = spec.get("Type", "String")
    name = spec.get("Name")
    try:
        if kind == "Integer":
            return int(raw)
        if kind == "Float":
            return float(raw)
        if kind == "Boolean":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("true", "false"):
                return str(raw).lower() == "true"
            raise ValueError(raw)
    except (TypeError, ValueError):
        raise DefinitionError(
            f"PipelineParameters: {name} is of type {kind}; the value {raw!r} is not a valid {kind}"
        ) from None
    return raw if isinstance(raw, str) else _stringify(raw)


def resolve_parameters(definition: dict[str, Any], overrides: list[dict[str, str]] | None) -> dict[str, Any]:
    """The definition's parameters with their defaults, overridden by the start's `PipelineParameters`."""
    specs = {p["Name"]: p for p in definition.get("Parameters", [])}
    given: dict[str, Any] = {}
    for item in overrides or []:
        name = item.get("Name")
        if name not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise DefinitionError(
                f"PipelineParameters: {name!r} is not a parameter of this pipeline (its parameters: {known})"
            )
        given[name] = item.get("Value")
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given:
            values[name] = _coerce_parameter(spec, given[name])
        elif "DefaultValue" in spec:
            values[name] = _coerce_parameter(spec, spec["DefaultValue"])
        else:
            raise DefinitionError(
                f"PipelineParameters: {name} has no default value; pass it in PipelineParameters"
            )
    return values


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
        self.env = dict(env or {})
        self.python = python
        self.step_timeout = step_timeout
        self.jobs = jobs if jobs is not None else {}
        self.on_job = on_job or (lambda kind, job: None)
        self.parameters = resolve_parameters(definition, record.parameters)
        self.step_defs: dict[str, dict[str, Any]] = {}
        self.results: dict[str, StepRecord] = {}
        self.property_files: dict[str, dict[str, dict[str, Any]]] = {}
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
        now = _now().isoformat()
        return {
            "PipelineExecutionId": self.record.execution_id,
            "PipelineExecutionArn": self.record.arn,
            "PipelineName": self.record.pipeline_name,
            "PipelineArn": self.record.pipeline_arn,
            "StartDateTime": self.record.start_time.isoformat(),
            "CurrentDateTime": now,
        }

    def resolve(self, value: Any, keep_execution: bool = False) -> Any:
        """Evaluate expressions; with `keep_execution`, `Execution.*` variables stay as written (cache keys:
        a path holding the execution id is the same argument in every execution, so such steps still hit)."""
        if isinstance(value, list):
            return [self.resolve(v, keep_execution) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            if keep_execution and str(value["Get"]).startswith("Execution."):
                return value
            return self._get(value["Get"])
        if set(value) == {"Std:Join"}:
            spec = value["Std:Join"]
            parts = [self.resolve(v, keep_execution) for v in spec.get("Values", [])]
            if keep_execution and any(isinstance(p, dict) for p in parts):
                return {"Std:Join": {"On": spec.get("On", ""), "Values": parts}}
            return str(spec.get("On", "")).join(_stringify(p) for p in parts)
        if set(value) == {"Std:JsonGet"}:
            return self._json_get(value["Std:JsonGet"])
        return {k: self.resolve(v, keep_execution) for k, v in value.items()}

    def _get(self, path: str) -> Any:
        tokens = parse_path(path)
        head = tokens[0]
        if head == "Parameters":
            name = str(tokens[1])
            if name not in self.parameters:
                raise DefinitionError(f"Get: {path} names no parameter of this pipeline")
            return self.parameters[name]
        if head == "Execution":
            variables = self.execution_variables()
            if tokens[1] not in variables:
                raise DefinitionError(f"Get: {path} is not an execution variable ({', '.join(variables)})")
            return variables[str(tokens[1])]
        if head == "PipelineExperimentConfig":
            config = {"ExperimentName": self.record.pipeline_name, "TrialName": self.record.execution_id}
            return walk(config, tokens[1:], path)
        if head == "Steps":
            step = str(tokens[1])
            if step not in self.results:
                raise DefinitionError(f"Get: {path} reads step {step!r}, which has not run")
            if len(tokens) > 3 and tokens[2] == "PropertyFiles":
                return {"__property_file__": (step, str(tokens[3]))}
            return walk(self.results[step].properties, tokens[2:], path)
        raise DefinitionError(
            f"Get: {path!r} must start with Parameters, Execution, Steps or PipelineExperimentConfig"
        )

    def _json_get(self, spec: dict[str, Any]) -> Any:
        path = spec.get("Path")
        if not path:
            raise DefinitionError("Std:JsonGet: Path is missing")
        if "PropertyFile" in spec:
            ref = self.resolve(spec["PropertyFile"])
            if not isinstance(ref, dict) or "__property_file__" not in ref:
                raise DefinitionError(
                    "Std:JsonGet: PropertyFile must be a Get of Steps.<step>.PropertyFiles.<name>"
                )
            step, name = ref["__property_file__"]
            pf = self.property_files.get(step, {}).get(name)
            if pf is None:
                raise DefinitionError(f"Std:JsonGet: step {step} declares no property file {name!r}")
            outputs = self.results[step].properties.get("ProcessingOutputConfig", {}).get("Outputs", [])
            match = [o for o in outputs if o.get("OutputName") == pf["OutputName"]]
            if not match:
                raise DefinitionError(f"Std:JsonGet: step {step} has no output {pf['OutputName']!r}")
            uri = match[0]["S3Output"]["S3Uri"].rstrip("/") + "/" + pf["FilePath"].lstrip("/")
        elif "S3Uri" in spec:
            uri = self.resolve(spec["S3Uri"])
        else:
            raise DefinitionError("Std:JsonGet: give PropertyFile or S3Uri")
        try:
            document = json.loads(s3util.read_object(self.clients("s3"), uri, "Std:JsonGet"))
        except Exception as exc:  # a missing or unreadable file is the step's failure
            raise StepFailure(f"Std:JsonGet could not read {uri}: {exc}") from exc
        return json_path(document, path, f"Std:JsonGet {uri} path {path}")

    # ---------------------------------------------------------------- conditions
    def evaluate(self, condition: dict[str, Any]) -> bool:
        kind = condition.get("Type")
        if kind == "Not":
            return not self.evaluate(condition["Condition"])
        if kind == "Or":
            return any(self.evaluate(c) for c in condition.get("Conditions", []))
        if kind == "In":
            query = self.resolve(condition.get("QueryValue"))
            return any(_equal(query, self.resolve(v)) for v in condition.get("Values", []))
        left = self.resolve(condition.get("LeftValue"))
        right = self.resolve(condition.get("RightValue"))
        if kind == "Equals":
            return _equal(left, right)
        compare = {
            "GreaterThan": lambda a, b: a > b,
            "GreaterThanOrEqualTo": lambda a, b: a >= b,
            "LessThan": lambda a, b: a < b,
            "LessThanOrEqualTo": lambda a, b: a <= b,
        }.get(str(kind))
        if compare is None:
            raise DefinitionError(f"Conditions: unknown condition Type {kind!r}")
        a, b = _numbers(left, right)
        return bool(compare(a, b))

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
            pending = list(self.definition["Steps"])
            while pending and record.status == "Executing":
                ready = [s for s in pending if self._ready(s)]
                if not ready:
                    break
                step = ready[0]
                pending.remove(step)
                result = self.run_step(step)
                if result.status != "Succeeded":
                    record.status = "Failed"
                    record.failure_reason = f"Step {step['Name']} failed: {result.failure_reason}"
                    break
                if step["Type"] == "Condition":
                    branch = "IfSteps" if result.properties["Outcome"] else "ElseSteps"
                    pending.extend(step["Arguments"].get(branch, []))
            if record.status == "Executing":
                record.status = "Succeeded"
            elif record.status == "Stopping":
                record.status = "Stopped"
        except Exception as exc:  # the execution must end with a reason, never hang in Executing
            record.status = "Failed"
            record.failure_reason = f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]
        finally:
            record.last_modified = _now()
            record.done.set()
        return record

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
        self.record.last_modified = _now()
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
            handler = {
                "Processing": self._processing,
                "Training": self._training,
                "Condition": self._condition,
                "RegisterModel": self._register_model,
                "Fail": self._fail,
            }.get(step["Type"])
            if handler is None:
                raise StepFailure(f"the stand-in cannot run steps of type {step['Type']!r}")
            handler(step, arguments, result)
            result.status = "Succeeded"
            if cache_key:
                self.cache.put(
                    cache_key, CacheEntry(self.record.arn, result.properties, result.metadata, _now())
                )
        except StepFailure as exc:
            result.status = "Failed"
            result.failure_reason = exc.reason
            result.metadata.update(exc.metadata)
        except DefinitionError as exc:
            result.status = "Failed"
            result.failure_reason = str(exc)[:REASON_LIMIT]
        except Exception as exc:
            result.status = "Failed"
            result.failure_reason = f"{type(exc).__name__}: {exc}"[:REASON_LIMIT]
            traceback.print_exc()
        finally:
            result.end_time = _now()
            self.record.last_modified = result.end_time
        return result

    # ---------------------------------------------------------------- step types
    def _condition(self, step: dict[str, Any], _arguments: Any, result: StepRecord) -> None:
        conditions = step.get("Arguments", {}).get("Conditions", [])
        outcome = all(self.evaluate(c) for c in conditions)
        result.properties = {"Outcome": outcome}
        result.metadata = {"Condition": {"Outcome": "True" if outcome else "False"}}

    def _fail(self, _step: dict[str, Any], arguments: dict[str, Any], result: StepRecord) -> None:
        message = _stringify(arguments.get("ErrorMessage", ""))
        raise StepFailure(message, {"Fail": {"ErrorMessage": message}})

    def _register_model(self, _step: dict[str, Any], arguments: dict[str, Any], result: StepRecord) -> None:
        sagemaker = self.clients("sagemaker")
        group = arguments.get("ModelPackageGroupName")
        if group:
            try:
                sagemaker.describe_model_package_group(ModelPackageGroupName=group)
            except Exception:  # as the SDK's RegisterModel does: create the group on first use
                sagemaker.create_model_package_group(ModelPackageGroupName=group)
        allowed = set(sagemaker.meta.service_model.operation_model("CreateModelPackage").input_shape.members)
        request = {k: v for k, v in arguments.items() if k in allowed}
        try:
            arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
        except Exception as exc:
            raise StepFailure(f"CreateModelPackage failed: {exc}") from exc
        result.properties = {"ModelPackageArn": arn, **request}
        result.metadata = {"RegisterModel": {"Arn": arn}}

    def _job_root(self, job_name: str) -> Path:
        root = self.workdir / job_name
        (root / "opt" / "ml").mkdir(parents=True, exist_ok=True)
        return root

    def _map(self, root: Path, value: str) -> str:
        """Rewrite `/opt/ml/...` to the job's mapped folder."""
        return value.replace(OPT_ML, str(root / "opt" / "ml"))

    def _subprocess_env(self, root: Path, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SM_"))}
        env.update(self.env)
        env.update({k: self._map(root, str(v)) for k, v in extra.items()})
        env["PYTHONUNBUFFERED"] = "1"
        env["HOME"] = str(root)
        return env

    def _command(self, root: Path, words: list[str]) -> list[str]:
        mapped = [self._map(root, w) for w in words]
        if mapped and re.fullmatch(r"python(3(\.\d+)?)?", Path(mapped[0]).name):
            mapped[0] = self.python  # the stand-in's own interpreter has pandas, scikit-learn and xgboost
        return mapped

    def _execute(
        self, result: StepRecord, root: Path, command: list[str], env: dict[str, str], cwd: Path, what: str
    ) -> None:
        log_path = root / "job.log"
        result.log_path = str(log_path)
        with open(log_path, "wb") as log:
            log.write(f"$ {shlex.join(command)}\n".encode())
            log.flush()
            try:
                proc = subprocess.run(
                    command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=self.step_timeout
                )
            except FileNotFoundError as exc:
                raise StepFailure(f"ClientError: {what}: cannot run {command[0]!r}: {exc}") from exc
            except subprocess.TimeoutExpired as exc:
                raise StepFailure(
                    f"{what} stopped after {self.step_timeout:.0f} s (MaxRuntimeInSeconds)"
                ) from exc
        if proc.returncode != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
            raise StepFailure(
                f"AlgorithmError: {what} exited with code {proc.returncode}; log {log_path}; last lines:\n"
                + "\n".join(tail)
            )

    def _rewrite_code(self, root: Path, folder: Path) -> None:
        """Scripts that default to SageMaker's `/opt/ml/...` paths use the mapped folder instead."""
        for path in folder.rglob("*.py"):
            text = path.read_text(errors="surrogateescape")
            if OPT_ML in text:
                path.write_text(self._map(root, text), errors="surrogateescape")

    @contextlib.contextmanager
    def _job(self, kind: str, job: str, args: dict[str, Any], result: StepRecord) -> Iterator[dict[str, Any]]:
        """Record the job as Describe{Processing,Training}Job shows it: InProgress, then Completed/Failed."""
        now = _now()
        record = {
            **args,
            f"{kind}JobName": job,
            f"{kind}JobArn": self._arn(f"{kind.lower()}-job", job),
            f"{kind}JobStatus": "InProgress",
            "CreationTime": now,
            "LastModifiedTime": now,
            "PipelineExecutionArn": self.record.arn,
        }
        self.jobs[job] = record
        self.on_job(kind, job)
        result.metadata = {f"{kind}Job": {"Arn": record[f"{kind}JobArn"]}}
        try:
            yield record
        except StepFailure as exc:
            record.update(
                {f"{kind}JobStatus": "Failed", "FailureReason": exc.reason, "LastModifiedTime": _now()}
            )
            raise
        record.update({f"{kind}JobStatus": "Completed", "LastModifiedTime": _now()})
        record["ProcessingEndTime" if kind == "Processing" else "TrainingEndTime"] = record[
            "LastModifiedTime"
        ]

    def _processing(self, step: dict[str, Any], args: dict[str, Any], result: StepRecord) -> None:
        job = _job_name(self.record.execution_id, step["Name"])
        with self._job("Processing", job, args, result):
            self._run_processing(job, args, result)

    def _training(self, step: dict[str, Any], args: dict[str, Any], result: StepRecord) -> None:
        job = _job_name(self.record.execution_id, step["Name"])
        with self._job("Training", job, args, result) as record:
            self._run_training(job, args, result)
            record["ModelArtifacts"] = result.properties["ModelArtifacts"]

    def _run_processing(self, job: str, args: dict[str, Any], result: StepRecord) -> None:
        s3 = self.clients("s3")
        root = self._job_root(job)
        spec = args.get("AppSpecification") or {}
        entry = list(spec.get("ContainerEntrypoint") or [])
        if not entry:
            raise StepFailure(
                "AppSpecification.ContainerEntrypoint: the stand-in runs only scripts given as an entrypoint"
            )
        for item in args.get("ProcessingInputs", []):
            source = item.get("S3Input")
            if not source:
                raise StepFailure(f"ProcessingInputs.{item.get('InputName')}: only S3Input is supported")
            if source.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise StepFailure(f"ProcessingInputs.{item.get('InputName')}: S3DataType must be S3Prefix")
            local = Path(self._map(root, source["LocalPath"]))
            s3util.download_prefix(
                s3, source["S3Uri"], local, f"ProcessingInputs.{item.get('InputName')}.S3Uri"
            )
            self._rewrite_code(root, local)
        outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs", [])
        for item in outputs:
            Path(self._map(root, item["S3Output"]["LocalPath"])).mkdir(parents=True, exist_ok=True)
        config_dir = root / "opt" / "ml" / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "processingjobconfig.json").write_text(
            json.dumps({**args, "ProcessingJobName": job}, default=str)
        )
        command = self._command(root, entry + list(spec.get("ContainerArguments") or []))
        env = self._subprocess_env(root, args.get("Environment") or {})
        self._execute(result, root, command, env, root, f"processing job {job}")
        for item in outputs:
            out = item["S3Output"]
            s3util.upload_folder(s3, Path(self._map(root, out["LocalPath"])), out["S3Uri"])
        arn = self._arn("processing-job", job)
        result.properties = {
            **args,
            "ProcessingJobName": job,
            "ProcessingJobArn": arn,
            "ProcessingJobStatus": "Completed",
        }
        result.metadata = {"ProcessingJob": {"Arn": arn}}

    def _run_training(self, job: str, args: dict[str, Any], result: StepRecord) -> None:
        s3 = self.clients("s3")
        root = self._job_root(job)
        ml = root / "opt" / "ml"
        raw_hps = {k: _stringify(v) for k, v in (args.get("HyperParameters") or {}).items()}
        hps = {k: _json_or_text(v) for k, v in raw_hps.items()}
        submit = hps.get("sagemaker_submit_directory")
        program = hps.get("sagemaker_program")
        if not submit or not program:
            raise StepFailure(
                "HyperParameters: the stand-in runs script-mode training only: "
                "sagemaker_submit_directory and sagemaker_program are required"
            )
        code = ml / "code"
        if str(submit).startswith("s3://"):
            s3util.untar_bytes(
                s3util.read_object(s3, submit, "HyperParameters.sagemaker_submit_directory"), code
            )
        else:
            raise StepFailure(
                f"HyperParameters.sagemaker_submit_directory: expected an s3:// tarball, got {submit!r}"
            )
        self._rewrite_code(root, code)
        channels = []
        for channel in args.get("InputDataConfig", []):
            name = channel["ChannelName"]
            source = (channel.get("DataSource") or {}).get("S3DataSource")
            if not source:
                raise StepFailure(f"InputDataConfig.{name}: only S3DataSource channels are supported")
            s3util.download_prefix(
                s3, source["S3Uri"], ml / "input" / "data" / name, f"InputDataConfig.{name}.S3Uri"
            )
            channels.append(name)
        for sub in ("model", "output/data", "output/intermediate", "input/config"):
            (ml / sub).mkdir(parents=True, exist_ok=True)
        user_hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        (ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(raw_hps))
        (ml / "input" / "config" / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"})
        )
        (ml / "input" / "config" / "inputdataconfig.json").write_text(
            json.dumps(
                {
                    c["ChannelName"]: {k: v for k, v in c.items() if k != "DataSource"}
                    for c in args.get("InputDataConfig", [])
                }
            )
        )
        user_args: list[str] = []
        for key, value in user_hps.items():
            user_args += [f"--{key}", _stringify(value)]
        env = {
            "SM_MODEL_DIR": f"{OPT_ML}/model",
            "SM_INPUT_DIR": f"{OPT_ML}/input",
            "SM_INPUT_CONFIG_DIR": f"{OPT_ML}/input/config",
            "SM_OUTPUT_DIR": f"{OPT_ML}/output",
            "SM_OUTPUT_DATA_DIR": f"{OPT_ML}/output/data",
            "SM_OUTPUT_INTERMEDIATE_DIR": f"{OPT_ML}/output/intermediate",
            "SM_MODULE_DIR": str(submit),
            "SM_MODULE_NAME": str(program).removesuffix(".py"),
            "SM_USER_ENTRY_POINT": str(program),
            "SM_CHANNELS": json.dumps(channels),
            "SM_HPS": json.dumps(user_hps),
            "SM_USER_ARGS": json.dumps(user_args),
            "SM_HOSTS": json.dumps(["algo-1"]),
            "SM_CURRENT_HOST": "algo-1",
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
            "SM_NUM_GPUS": "0",
            "SM_LOG_LEVEL": str(hps.get("sagemaker_container_log_level", 20)),
            "SM_FRAMEWORK_MODULE": "",
            "TRAINING_JOB_NAME": job,
        }
        env.update({f"SM_CHANNEL_{c.upper()}": f"{OPT_ML}/input/data/{c}" for c in channels})
        env.update({f"SM_HP_{k.upper()}": _stringify(v) for k, v in user_hps.items()})
        env.update({k: _stringify(v) for k, v in (args.get("Environment") or {}).items()})
        command = [self.python, str(program), *user_args]
        if not str(program).endswith(".py"):
            raise StepFailure(f"HyperParameters.sagemaker_program: expected a .py script, got {program!r}")
        self._execute(result, root, command, self._subprocess_env(root, env), code, f"training job {job}")
        output_path = (args.get("OutputDataConfig") or {}).get("S3OutputPath")
        if not output_path:
            raise StepFailure("OutputDataConfig.S3OutputPath is required")
        bucket, prefix = s3util.split_s3_uri(output_path, "OutputDataConfig.S3OutputPath")
        base = f"{prefix.rstrip('/')}/{job}/output" if prefix.strip("/") else f"{job}/output"
        s3.put_object(Bucket=bucket, Key=f"{base}/model.tar.gz", Body=s3util.tar_folder(ml / "model"))
        if any((ml / "output" / "data").iterdir()):
            s3.put_object(
                Bucket=bucket, Key=f"{base}/output.tar.gz", Body=s3util.tar_folder(ml / "output" / "data")
            )
        arn = self._arn("training-job", job)
        result.properties = {
            **args,
            "TrainingJobName": job,
            "TrainingJobArn": arn,
            "TrainingJobStatus": "Completed",
            "ModelArtifacts": {"S3ModelArtifacts": f"s3://{bucket}/{base}/model.tar.gz"},
        }
        result.metadata = {"TrainingJob": {"Arn": arn}}

    def _arn(self, kind: str, name: str) -> str:
        parts = self.record.arn.split(":")
        return f"arn:aws:sagemaker:{parts[3]}:{parts[4]}:{kind}/{name}"


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _numbers(left: Any, right: Any) -> tuple[Any, Any]:
    def num(v: Any) -> Any:
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            return v
        try:
            return float(v)
        except (TypeError, ValueError):
            return v

    a, b = num(left), num(right)
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        raise DefinitionError(f"Conditions: cannot compare {left!r} with {right!r}")
    return a, b


def _equal(left: Any, right: Any) -> bool:
    try:
        a, b = _numbers(left, right)
    except DefinitionError:
        return _stringify(left) == _stringify(right)
    return bool(a == b)


# -------------------------------------------------------------------------------------------- the API
# moto stores pipelines (create/describe/update/delete_pipeline); the stand-in answers what executions do.


@dataclass
class PipelinesState:
    """Per stand-in, account and region: the executions this layer ran and the step cache."""

    executions: dict[str, ExecutionRecord] = field(default_factory=dict)
    cache: StepCache = field(default_factory=StepCache)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


RUNNING = ("Executing", "Stopping")
_LIVE_RECORDS: dict[str, ExecutionRecord] = {}
_LIVE_LOCK = threading.Lock()


def stop_all_running() -> None:
    """On the stand-in's reset: running executions stop after their current step (their state is gone)."""
    with _LIVE_LOCK:
        for record in _LIVE_RECORDS.values():
            if record.status == "Executing":
                record.status = "Stopping"


def _state(ctx: Any) -> PipelinesState:
    return ctx.store("sagemaker_pipelines", PipelinesState)


def _pipeline_name(value: str) -> str:
    """A name or an ARN (`arn:aws:sagemaker:r:a:pipeline/name`) → the name."""
    return value.split(":pipeline/", 1)[1].split("/", 1)[0] if ":pipeline/" in value else value


def _execution(ctx: Any, arn: str) -> ExecutionRecord:
    from standin.dispatch import AwsError

    record = _state(ctx).executions.get(arn or "")
    if record is None:
        raise AwsError("ResourceNotFound", f"Pipeline execution {arn} does not exist.", 400)
    return record


def _workdir(ctx: Any) -> Path:
    import tempfile

    base = getattr(ctx.standin, "state_dir", None)
    root = Path(base) / "sagemaker-pipelines" if base else Path(tempfile.mkdtemp(prefix="standin-pipelines-"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def start_execution(ctx: Any, params: dict[str, Any]) -> ExecutionRecord:
    """Validate, record in moto's backend and in our state, and run in a background thread."""
    from standin.dispatch import AwsError

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
        from standin.runtime import context

        return context.client(standin, service, region)

    env = dict(standin.env) if standin is not None else {}
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    account = ctx.account_id
    footprints.execution_started(account, region, name, record.execution_id)

    def on_job(kind: str, job: str) -> None:
        footprints.job_started(account, region, record.execution_id, kind, job)

    try:
        run = PipelineRun(
            definition, record, clients, _workdir(ctx), state.cache, env, jobs=state.jobs, on_job=on_job
        )
    except DefinitionError as exc:
        record.status, record.failure_reason = "Failed", str(exc)
        record.done.set()
        moto_record.pipeline_execution_status = "Failed"
        return record

    def work() -> None:
        with _LIVE_LOCK:
            _LIVE_RECORDS[record.arn] = record
        try:
            run.run()
        finally:
            with _LIVE_LOCK:
                _LIVE_RECORDS.pop(record.arn, None)
        moto_record.pipeline_execution_status = record.status
        moto_record.pipeline_execution_failure_reason = record.failure_reason

    threading.Thread(target=work, name=f"sm-pipeline-{record.execution_id}", daemon=True).start()
    return record


def register_api() -> None:
    from standin.dispatch import AwsError, on_reset, operation

    on_reset(stop_all_running)

    @operation("sagemaker", "StartPipelineExecution")
    def _start(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        from standin.runtime import context

        context.bind(ctx.standin)
        return {"PipelineExecutionArn": start_execution(ctx, params).arn}

    @operation("sagemaker", "DescribePipelineExecution")
    def _describe(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        return _execution(ctx, params.get("PipelineExecutionArn", "")).describe()

    @operation("sagemaker", "ListPipelineExecutions")
    def _list(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        name = _pipeline_name(params.get("PipelineName", ""))
        if name not in ctx.backend("sagemaker").pipelines:
            raise AwsError("ResourceNotFound", f"Pipeline {name!r} does not exist.", 400)
        records = [r for r in _state(ctx).executions.values() if r.pipeline_name == name]
        records.sort(
            key=lambda r: r.start_time, reverse=params.get("SortOrder", "Descending") == "Descending"
        )
        return {"PipelineExecutionSummaries": [r.summary() for r in records]}

    @operation("sagemaker", "ListPipelineExecutionSteps")
    def _steps(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        record = _execution(ctx, params.get("PipelineExecutionArn", ""))
        steps = [s.to_api() for s in list(record.steps)]
        if params.get("SortOrder", "Descending") == "Descending":
            steps.reverse()
        return {"PipelineExecutionSteps": steps}

    def _job_handler(kind: str) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
        def describe(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
            job = _state(ctx).jobs.get(params.get(f"{kind}JobName", ""))
            if job is None or f"{kind}JobStatus" not in job:
                return ctx.forward_json()
            return job

        return describe

    operation("sagemaker", "DescribeProcessingJob")(_job_handler("Processing"))
    operation("sagemaker", "DescribeTrainingJob")(_job_handler("Training"))

    @operation("sagemaker", "DeletePipeline")
    def _delete(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
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
    def _stop(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        record = _execution(ctx, params.get("PipelineExecutionArn", ""))
        # A running local step is not interrupted; the execution reports Stopping until it ends.
        if record.status == "Executing":
            record.status = "Stopping"
        return {"PipelineExecutionArn": record.arn}
