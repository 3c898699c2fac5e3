"""Import a script of the repository by its path (test/test.py would clash with Python's own `test`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent


def load(relative: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / relative)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_template() -> dict[str, Any]:
    """endpoint-config-template.yml as data; short-form intrinsics become {"Ref": ...}, {"Sub": ...}, ..."""
    return yaml.load((REPO / "endpoint-config-template.yml").read_text(), Loader=_CfnLoader)


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML, keeping short-form intrinsics (!Ref, !Sub, ...) as plain values."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {tag_suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {tag_suffix: loader.construct_sequence(node)}
    return {tag_suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _intrinsic)
