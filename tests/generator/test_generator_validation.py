"""`check_parameters`: the one validator the stand-in and the commands share with CloudFormation."""

from __future__ import annotations

import subprocess
import sys

import pytest
from generator_helpers import example_values, template_of

from generator.validation import ParameterProblem, check_parameters

TOY = {
    "Parameters": {
        "Name": {
            "Type": "String",
            "AllowedPattern": "^[a-z]+$",
            "ConstraintDescription": "lower-case letters",
        },
        "Flag": {"Type": "String", "AllowedValues": ["true", "false"], "Default": "true"},
        "Short": {"Type": "String", "MinLength": 2, "MaxLength": 4, "Default": "ab"},
        "Count": {"Type": "Number", "Default": "1"},
    }
}


@pytest.mark.parametrize(
    ("case", "values", "expected"),
    [
        ("all good", {"Name": "abc"}, []),
        ("defaults fill the rest", {"Name": "abc", "Flag": "false", "Short": "abcd", "Count": "3"}, []),
        ("missing required", {}, [("Name", None, "required")]),
        ("pattern is whole-value", {"Name": "abc1"}, [("Name", "abc1", "does not match")]),
        ("pattern names the hint", {"Name": "ABC"}, [("Name", "ABC", "lower-case letters")]),
        ("allowed values", {"Name": "a", "Flag": "yes"}, [("Flag", "yes", "not one of the allowed values")]),
        ("too short", {"Name": "a", "Short": "a"}, [("Short", "a", "shorter than 2")]),
        ("too long", {"Name": "a", "Short": "abcde"}, [("Short", "abcde", "longer than 4")]),
        ("not a number", {"Name": "a", "Count": "many"}, [("Count", "many", "not a number")]),
        ("unknown name", {"Name": "a", "Nmae": "x"}, [("Nmae", "x", "no such parameter")]),
    ],
)
def test_check_parameters(
    case: str, values: dict[str, str], expected: list[tuple[str, str | None, str]]
) -> None:
    problems = check_parameters(TOY, values)
    assert [(p.name, p.value) for p in problems] == [(name, value) for name, value, _ in expected]
    for problem, (_, _, fragment) in zip(problems, expected, strict=True):
        assert fragment in problem.message


def test_problem_reads_well() -> None:
    problem = ParameterProblem("Name", None, "required (it has no default) but not given")
    assert str(problem) == "Name=(not given): required (it has no default) but not given"


@pytest.mark.parametrize("form", ["v1", "v2"])
def test_rendered_templates_accept_a_complete_good_set(form: str) -> None:
    name = f"mlops-third-party-git-{form}"
    assert check_parameters(template_of(name), example_values(form)) == []


def test_v1_toggle_accepts_only_true_or_false() -> None:
    template = template_of("mlops-third-party-git-v1")
    for value, ok in [("true", True), ("false", True), ("True", False), ("yes", False), ("", False)]:
        problems = check_parameters(
            template, example_values("v1", ModelBuildCodeRepositoryIsSeedcodeRequired=value)
        )
        assert (not problems) == ok, value


def test_a_v1_parameter_is_unknown_to_the_v2_form() -> None:
    values = example_values("v2", ModelBuildCodeRepositoryUrl="https://github.com/a/b.git")
    (problem,) = check_parameters(template_of("mlops-third-party-git-v2"), values)
    assert problem.name == "ModelBuildCodeRepositoryUrl" and "CodeConnectionArn" in problem.message


def test_validation_imports_no_troposphere() -> None:
    code = "import sys, generator.validation; print('troposphere' in sys.modules, 'awacs' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
