"""Shared by the generator tests: rendered variants as data, and an evaluator of CloudFormation intrinsics."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from generator import constants as c
from generator.config import VARIANTS, TemplateConfig
from generator.render import render

CONNECTION_ARN = (
    "arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
)
PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "eu-west-1",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
LONGEST_PSEUDO = {**PSEUDO, "AWS::Region": c.LONGEST_REGION, "AWS::AccountId": c.LONGEST_ACCOUNT}


def example_values(form: str, **overrides: str) -> dict[str, str]:
    """A complete, valid set of parameter values for a form."""
    values = {c.PROJECT_NAME: "demo", c.PROJECT_ID: "p-abcdef123456"}
    for repo in c.REPOS:
        values[c.repo_param(repo, c.BRANCH)] = "main"
        values[c.repo_param(repo, c.FULLNAME)] = f"my-org/demo-{repo.lower()}"
        if form == "v1":
            values[c.repo_param(repo, c.URL)] = f"https://github.com/my-org/demo-{repo.lower()}.git"
            values[c.repo_param(repo, c.CONNECTION)] = CONNECTION_ARN
            values[c.repo_param(repo, c.SEED_TOGGLE)] = "true"
    if form == "v2":
        values[c.CODE_CONNECTION_ARN] = CONNECTION_ARN
    values.update(overrides)
    return values


_LOADED: dict[str, dict[str, Any]] = {}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loaded(config: TemplateConfig) -> dict[str, Any]:
    key = repr(config)  # TemplateConfig holds a mapping, so it is not hashable
    if key not in _LOADED:
        _LOADED[key] = yaml.load(render(config), Loader=LOADER)  # a safe loader
    return _LOADED[key]


def template_of(variant: str | TemplateConfig) -> dict[str, Any]:
    """A rendered variant (by name or config) loaded as data; a fresh copy each call."""
    config = VARIANTS[variant] if isinstance(variant, str) else variant
    return copy.deepcopy(_loaded(config))


class Evaluator:
    """Resolves the intrinsics this template uses, given parameter values (GetAtt resolves to a marker)."""

    def __init__(self, template: dict[str, Any], values: dict[str, str], pseudo: dict[str, str] = PSEUDO):
        self.template = template
        self.refs = {**pseudo, **values}

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.refs.get(arg, f"<Ref {arg}>")
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = self.value(arg)
                return left == right
            if key == "Fn::Or":
                return any(self.value(arg))
            if key == "Fn::Select":
                index, items = self.value(arg)
                return items[int(index)]
            if key == "Fn::Split":
                sep, text = self.value(arg)
                return text.split(sep)
            if key == "Fn::Join":
                sep, items = self.value(arg)
                return sep.join(items)
            if key == "Fn::GetAtt":
                return f"<GetAtt {'.'.join(arg) if isinstance(arg, list) else arg}>"
            if key == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
                return self.sub(text, local)
        return {key: self.value(item) for key, item in node.items()}

    def sub(self, text: str, local: dict[str, Any]) -> str:
        out, rest = "", text
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            if name in local:
                out += before + str(local[name])
            elif "." in name:
                out += before + f"<GetAtt {name}>"
            else:
                out += before + str(self.refs.get(name, f"<Ref {name}>"))
        return out + rest

    def active_resources(self) -> dict[str, dict[str, Any]]:
        """Resources whose condition holds, with their properties evaluated."""
        active = {}
        for logical_id, resource in self.template["Resources"].items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            active[logical_id] = {**resource, "Properties": self.value(resource.get("Properties", {}))}
        return active
