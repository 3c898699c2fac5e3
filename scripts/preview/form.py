"""The Create-project form as Studio draws it from a template, and the rules its fields are checked with.

Studio adds the project name and description, then shows the groups of `AWS::CloudFormation::Interface` in
order; it fills in `SageMakerProjectName` and `SageMakerProjectId` itself, so they are not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.validation import PROJECT_NAME
from scripts.projects import DESCRIPTION_MAX_LENGTH

HIDDEN = ("SageMakerProjectName", "SageMakerProjectId")  # Studio fills these in
UNGROUPED = "Other parameters"


@dataclass(frozen=True)
class Field:
    """One parameter of the form."""

    name: str
    label: str
    description: str
    default: str | None
    allowed_values: tuple[str, ...]
    constraint: str

    @property
    def is_toggle(self) -> bool:
        return sorted(self.allowed_values) == ["false", "true"]


@dataclass
class Group:
    label: str
    fields: list[Field] = field(default_factory=list)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _field(name: str, spec: dict[str, Any], labels: dict[str, Any]) -> Field:
    return Field(
        name=name,
        label=str((labels.get(name) or {}).get("default", name)),
        description=str(spec.get("Description", "")),
        default=_text(spec.get("Default")),
        allowed_values=tuple(str(v) for v in spec.get("AllowedValues", ())),
        constraint=str(spec.get("ConstraintDescription", "")),
    )


def groups(template: dict[str, Any]) -> list[Group]:
    """The form's groups in the template's order; ungrouped parameters come last, in one group."""
    declared: dict[str, Any] = template.get("Parameters") or {}
    interface = (template.get("Metadata") or {}).get("AWS::CloudFormation::Interface") or {}
    labels = interface.get("ParameterLabels") or {}
    result: list[Group] = []
    seen: set[str] = set(HIDDEN)
    for group in interface.get("ParameterGroups") or []:
        names = [n for n in group.get("Parameters", []) if n in declared and n not in seen]
        seen.update(names)
        label = str((group.get("Label") or {}).get("default", ""))
        result.append(Group(label, [_field(n, declared[n], labels) for n in names]))
    rest = sorted(set(declared) - seen)
    if rest:
        result.append(Group(UNGROUPED, [_field(n, declared[n], labels) for n in rest]))
    return result


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field's rule as data for the page: the template's own constraints, and SageMaker's name rule.

    The keys mirror `generator.validation._check_one`: allowed values, lengths, the anchored pattern.
    """
    declared: dict[str, Any] = template.get("Parameters") or {}
    out: dict[str, dict[str, Any]] = {
        "ProjectName": {
            "AllowedPattern": PROJECT_NAME.pattern,
            "MinLength": PROJECT_NAME.min_length,
            "MaxLength": PROJECT_NAME.max_length,
            "ConstraintDescription": PROJECT_NAME.description,
        },
        "ProjectDescription": {
            "MaxLength": DESCRIPTION_MAX_LENGTH,
            "ConstraintDescription": f"at most {DESCRIPTION_MAX_LENGTH} characters",
        },
    }
    keys = ("AllowedPattern", "MinLength", "MaxLength", "AllowedValues", "ConstraintDescription")
    for name, spec in sorted(declared.items()):
        if name in HIDDEN:
            continue
        rule = {k: spec[k] for k in keys if k in spec}
        for k in ("MinLength", "MaxLength"):
            if k in rule:
                rule[k] = int(rule[k])
        if "AllowedValues" in rule:
            rule["AllowedValues"] = [str(v) for v in rule["AllowedValues"]]
        out[name] = rule
    return out
