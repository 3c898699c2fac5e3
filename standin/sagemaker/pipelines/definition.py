"""SageMaker pipeline definitions (schema version 2020-12-01): parameters, property paths, cache durations,
and the errors a definition or a step reports."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import string
from typing import Any, cast

SUPPORTED_VERSION = "2020-12-01"
# Only the tail of a failing script's stderr goes into FailureReason (AWS caps reasons at 1024 characters).
REASON_LIMIT = 1024


class DefinitionError(ValueError):
    """The stored definition or the start call is malformed; the message names the field."""


class StepFailure(Exception):
    """A step failed; `reason` is what list_pipeline_execution_steps shows as FailureReason."""

    def __init__(self, reason: str, metadata: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason = reason[:REASON_LIMIT]
        self.metadata = metadata or {}


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
        if isinstance(value, dict) and token in value:
            value = value[token]
            continue
        if isinstance(value, list) and isinstance(token, int) and token < len(value):
            value = value[token]
            continue
        if isinstance(value, list) and isinstance(token, str):
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


def stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


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
    return raw if isinstance(raw, str) else stringify(raw)


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
        given[cast(str, name)] = item.get("Value")
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
