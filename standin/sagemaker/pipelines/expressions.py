"""SageMaker pipeline expressions: `Get` (parameters, execution variables, step properties), `Std:Join`,
`Std:JsonGet` (property files read from S3) and the conditions of Condition steps."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from standin import s3util
from standin.sagemaker.pipelines.definition import (
    DefinitionError,
    StepFailure,
    json_path,
    parse_path,
    stringify,
    walk,
)
from standin.sagemaker.pipelines.records import ExecutionRecord, StepRecord, now

ClientFactory = Callable[[str], Any]


class Expressions:
    """What an execution's expressions read: its parameters, its record, the steps that ran, property
    files."""

    def __init__(
        self,
        record: ExecutionRecord,
        parameters: dict[str, Any],
        results: dict[str, StepRecord],
        property_files: dict[str, dict[str, dict[str, Any]]],
        clients: ClientFactory,
    ):
        self.record = record
        self.parameters = parameters
        self.results = results
        self.property_files = property_files
        self.clients = clients

    def execution_variables(self) -> dict[str, Any]:
        current = now().isoformat()
        return {
            "PipelineExecutionId": self.record.execution_id,
            "PipelineExecutionArn": self.record.arn,
            "PipelineName": self.record.pipeline_name,
            "PipelineArn": self.record.pipeline_arn,
            "StartDateTime": self.record.start_time.isoformat(),
            "CurrentDateTime": current,
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
            return str(spec.get("On", "")).join(stringify(p) for p in parts)
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
        return stringify(left) == stringify(right)
    return bool(a == b)
