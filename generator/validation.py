"""The one parameter validator, and the rules the template's parameters are built from.

CloudFormation matches an `AllowedPattern` against the whole value; cfn-lint uses `re.search`. Every pattern
here is anchored at both ends so both agree. `check_parameters` reads the constraints from the template it is
given, so the local stand-in, the `sm-mlops` commands and CloudFormation judge a value the same way.
This module must not import troposphere: the stand-in imports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """An input rule: pattern (anchored), lengths, and what a valid value looks like."""

    pattern: str
    description: str
    min_length: int = 1
    max_length: int = 255


PROJECT_NAME = Rule(
    pattern=r"^[a-zA-Z](-*[a-zA-Z0-9]){0,31}$",
    description="1 to 32 letters, digits and hyphens, starting with a letter and not ending with a hyphen",
    max_length=32,
)
PROJECT_ID = Rule(
    pattern=r"^p-[a-z0-9]{12}$",
    description="p- followed by 12 lowercase letters or digits, e.g. p-abcdef123456 (SageMaker fills it in)",
    min_length=14,
    max_length=14,
)
GIT_URL = Rule(
    pattern=(
        r"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
        r"(:[0-9]{1,5})?(/[A-Za-z0-9_.~%+-]+)+\.git$"
    ),
    description="an https Git clone URL ending in .git, without user or password, "
    "e.g. https://github.com/my-org/my-repo.git",
    max_length=1024,
)
# git check-ref-format, for a branch: no part starts with "." or ends with ".lock"; no "..", "@{", "//", "\";
# no control character, space, ~ ^ : ? * [; does not start with "-" or "/" or end with "/" or "."; not "@".
BRANCH = Rule(
    pattern=(
        r"^(?![-/.])(?!@$)(?!.*\.\.)(?!.*@\{)(?!.*//)(?!.*/\.)(?!.*\.lock(/|$))(?!.*[/.]$)"
        r"[^\x00-\x20\x7f~^:?*\[\\]+$"
    ),
    description="a Git branch name, e.g. main or release/1.0: no spaces or any of ~ ^ : ? * [ \\, "
    "no '..', '@{' or '//', not starting with '-', '/' or '.', no part starting with '.' or ending in "
    "'.lock', not ending in '/' or '.'",
)
FULLNAME = Rule(
    pattern=(
        r"^(?!.*\.git$)(?!(.*/)?\.\.?(/|$))[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$"
    ),
    description="owner/repository as in the repository's web address, e.g. my-org/my-repo "
    "(GitLab subgroups allowed: group/subgroup/repo), without a trailing .git",
    min_length=3,
)
CONNECTION_ARN = Rule(
    pattern=(
        r"^arn:aws(-[a-z]+)*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:"
        r"connection/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    ),
    description="a connection ARN in any partition, "
    "e.g. arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666 "
    "(arn:aws:codestar-connections:... also accepted)",
    min_length=60,
    max_length=256,
)
TRUE_FALSE = ("true", "false")
TRUE_FALSE_DESCRIPTION = "true or false"


@dataclass(frozen=True)
class ParameterProblem:
    """One parameter value CloudFormation would refuse: which parameter, which value, what is wrong."""

    name: str
    value: str | None
    message: str

    def __str__(self) -> str:
        shown = "(not given)" if self.value is None else repr(self.value)
        return f"{self.name}={shown}: {self.message}"


def _with_hint(message: str, spec: Mapping[str, Any]) -> str:
    hint = spec.get("ConstraintDescription")
    return f"{message}; expected {hint}" if hint else message


def _check_one(name: str, value: str, spec: Mapping[str, Any]) -> list[ParameterProblem]:
    problems: list[ParameterProblem] = []
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        choices = ", ".join(str(v) for v in allowed)
        problems.append(
            ParameterProblem(name, value, _with_hint(f"not one of the allowed values ({choices})", spec))
        )
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        problems.append(
            ParameterProblem(name, value, _with_hint(f"shorter than {spec['MinLength']} characters", spec))
        )
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        problems.append(
            ParameterProblem(name, value, _with_hint(f"longer than {spec['MaxLength']} characters", spec))
        )
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        problems.append(ParameterProblem(name, value, _with_hint(f"does not match {pattern}", spec)))
    if spec.get("Type") == "Number":
        try:
            float(value)
        except ValueError:
            problems.append(ParameterProblem(name, value, "not a number; give digits, e.g. 42"))
    return problems


def check_parameters(template: Mapping[str, Any], values: Mapping[str, str]) -> list[ParameterProblem]:
    """Every problem CloudFormation would find with these parameter values (empty: all good).

    Checks the template's own AllowedPattern (whole value), AllowedValues, MinLength/MaxLength, Number type;
    a parameter without Default must be given; a name the template does not declare is refused.
    """
    declared: Mapping[str, Mapping[str, Any]] = template.get("Parameters") or {}
    problems: list[ParameterProblem] = []
    for name in sorted(set(values) - set(declared)):
        known = ", ".join(sorted(declared)) or "none"
        problems.append(
            ParameterProblem(
                name, values[name], f"the template has no such parameter; known parameters: {known}"
            )
        )
    for name, spec in declared.items():
        if name in values:
            problems.extend(_check_one(name, str(values[name]), spec))
        elif "Default" not in spec:
            problems.append(
                ParameterProblem(name, None, _with_hint("required (it has no default) but not given", spec))
            )
    return problems
