"""Small helpers shared by the command-line entry points."""

from __future__ import annotations

import json
from typing import Any


def parse_json_argument(name: str, text: str | None, expected: type) -> Any:
    """Parse the JSON given to a `--name` argument and check its top-level type, with a clear error."""
    if text is None or text.strip() == "":
        return expected() if expected in (dict, list) else None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"--{name}: not valid JSON ({error.msg} at character {error.pos}): {text!r}"
        ) from None
    if not isinstance(value, expected):
        kind = {dict: "object", list: "list"}.get(expected, expected.__name__)
        raise ValueError(f"--{name}: expected a JSON {kind}, got {type(value).__name__}: {text!r}")
    return value


def convert_struct(text: str | None) -> list[dict[str, str]]:
    """Turn `--tags` (a JSON list of {"Key": .., "Value": ..} or a JSON object) into a tag list."""
    if text is None or text.strip() == "":
        return []
    value = parse_json_argument("tags", text, object)
    if isinstance(value, dict):
        return [{"Key": str(key), "Value": str(item)} for key, item in value.items()]
    if not isinstance(value, list):
        raise ValueError(f"--tags: expected a JSON list or object, got {type(value).__name__}")
    tags = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"Key", "Value"}:
            raise ValueError(f'--tags: item {index} must be {{"Key": ..., "Value": ...}}, got {item!r}')
        tags.append({"Key": str(item["Key"]), "Value": str(item["Value"])})
    return tags


def get_pipeline_driver(module_name: str, kwargs: dict[str, Any]) -> Any:
    """Import `module_name` and call its `get_pipeline(**kwargs)`, naming the problem when either fails."""
    import importlib
    import inspect

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise ValueError(f"--module-name {module_name!r}: cannot import it ({error})") from None
    get_pipeline = getattr(module, "get_pipeline", None)
    if get_pipeline is None:
        raise ValueError(f"--module-name {module_name!r}: the module has no get_pipeline function")
    parameters = inspect.signature(get_pipeline).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = sorted(set(kwargs) - set(parameters)) if not accepts_any else []
    if unknown:
        raise ValueError(
            f"--kwargs: get_pipeline of {module_name} takes no {', '.join(unknown)}; "
            f"it takes {', '.join(parameters)}"
        )
    missing = sorted(
        name
        for name, p in parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and name not in kwargs
    )
    if missing:
        raise ValueError(f"--kwargs: get_pipeline of {module_name} needs {', '.join(missing)}; add them")
    return get_pipeline(**kwargs)
