"""The Studio form as AWS's template draws it, for both forms."""

from __future__ import annotations

import re

import pytest
from generator_helpers import template_of

from generator import constants as c
from generator import validation as v
from generator.config import VARIANTS

V1_REPO_FIELDS = [
    ("CodeRepositoryUrl", "URL"),
    ("CodeRepositoryBranch", "Branch"),
    ("CodeRepositoryFullname", "Full Repository Name"),
    ("CodeRepositoryCodestarConnectionArn", "Codestar Connection ARN"),
    ("CodeRepositoryIsSeedcodeRequired", "Sample Code"),
]
GROUPS = {"ModelBuild": "ModelBuild CodeRepository Info", "ModelDeploy": "ModelDeploy CodeRepository Info"}
V1_NAMES = {"SageMakerProjectName", "SageMakerProjectId"} | {
    f"{repo}{field}" for repo in GROUPS for field, _ in V1_REPO_FIELDS
}
V2_NAMES = {
    "SageMakerProjectName",
    "SageMakerProjectId",
    "ModelBuildCodeRepositoryBranch",
    "ModelBuildCodeRepositoryFullname",
    "ModelDeployCodeRepositoryBranch",
    "ModelDeployCodeRepositoryFullname",
    "CodeConnectionArn",
}
V1_VARIANTS = [name for name, cfg in VARIANTS.items() if cfg.form == "v1"]
V2_VARIANTS = [name for name, cfg in VARIANTS.items() if cfg.form == "v2"]


@pytest.mark.parametrize("variant", V1_VARIANTS)
def test_v1_form_has_the_walkthrough_fields_groups_and_labels(variant: str) -> None:
    template = template_of(variant)
    assert set(template["Parameters"]) == V1_NAMES
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    assert interface["ParameterGroups"] == [
        {"Label": {"default": label}, "Parameters": [f"{repo}{field}" for field, _ in V1_REPO_FIELDS]}
        for repo, label in GROUPS.items()
    ]
    assert interface["ParameterLabels"] == {
        f"{repo}{field}": {"default": label} for repo in GROUPS for field, label in V1_REPO_FIELDS
    }


@pytest.mark.parametrize("variant", V1_VARIANTS)
def test_v1_defaults_toggle_and_conditions(variant: str) -> None:
    template = template_of(variant)
    params = template["Parameters"]
    for repo in GROUPS:
        assert params[f"{repo}CodeRepositoryBranch"]["Default"] == "main"
        toggle = params[f"{repo}CodeRepositoryIsSeedcodeRequired"]
        assert (toggle["Type"], toggle["AllowedValues"], toggle["Default"]) == (
            "String",
            ["true", "false"],
            "true",
        )
        for field in ("Url", "Fullname", "CodestarConnectionArn"):
            assert "Default" not in params[f"{repo}CodeRepository{field}"], "required in Studio"
    assert template["Conditions"] == {
        "CreateResourceForModelBuildSeedcodeCheckin": {
            "Fn::Equals": [{"Ref": "ModelBuildCodeRepositoryIsSeedcodeRequired"}, "true"]
        },
        "CreateResourceForModelDeploySeedcodeCheckin": {
            "Fn::Equals": [{"Ref": "ModelDeployCodeRepositoryIsSeedcodeRequired"}, "true"]
        },
        "CreateResourceForAnySeedCodeCheckin": {
            "Fn::Or": [
                {"Condition": "CreateResourceForModelBuildSeedcodeCheckin"},
                {"Condition": "CreateResourceForModelDeploySeedcodeCheckin"},
            ]
        },
    }


@pytest.mark.parametrize("variant", V2_VARIANTS)
def test_v2_form_has_one_connection_no_url_no_toggle(variant: str) -> None:
    template = template_of(variant)
    assert set(template["Parameters"]) == V2_NAMES
    labels = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterLabels"]
    assert labels["CodeConnectionArn"] == {"default": "Code Connection ARN"}
    assert labels["ModelBuildCodeRepositoryFullname"] == {"default": "Full Repository Name"}
    assert "Conditions" not in template
    grouped = [
        p
        for g in template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        for p in g["Parameters"]
    ]
    assert sorted(grouped) == sorted(V2_NAMES - {"SageMakerProjectName", "SageMakerProjectId"})


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_sagemaker_parameter_rules_and_service_generated_fields(variant: str) -> None:
    template = template_of(variant)
    assert template["Metadata"]["SagemakerTemplateParameterRules"] == {
        "ModelBuildCodeRepositoryBranch": {"Optional": True},
        "ModelDeployCodeRepositoryBranch": {"Optional": True},
    }
    params = template["Parameters"]
    name, project_id = params["SageMakerProjectName"], params["SageMakerProjectId"]
    assert name["NoEcho"] is True and project_id["NoEcho"] is True
    assert (name["MinLength"], name["MaxLength"]) == (1, 32)
    assert re.fullmatch(name["AllowedPattern"], "a" * 32) and not re.fullmatch(
        name["AllowedPattern"], "a" * 33
    )


@pytest.mark.parametrize(
    ("case", "field", "rule"),
    [
        ("project name", "SageMakerProjectName", v.PROJECT_NAME),
        ("project id", "SageMakerProjectId", v.PROJECT_ID),
        ("branch", "ModelBuildCodeRepositoryBranch", v.BRANCH),
        ("full name", "ModelDeployCodeRepositoryFullname", v.FULLNAME),
    ],
)
def test_parameters_carry_the_validator_rules(case: str, field: str, rule: v.Rule) -> None:
    for variant in VARIANTS:
        spec = template_of(variant)["Parameters"][field]
        assert (spec["AllowedPattern"], spec["ConstraintDescription"]) == (rule.pattern, rule.description)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_parameter_is_anchored_and_explains_itself(variant: str) -> None:
    for name, spec in template_of(variant)["Parameters"].items():
        assert spec.get("ConstraintDescription"), f"{name} has no ConstraintDescription"
        if "AllowedValues" in spec:
            continue
        pattern = spec.get("AllowedPattern", "")
        assert pattern.startswith("^") and pattern.endswith("$"), f"{name}: {pattern!r} is not anchored"
        assert "MaxLength" in spec, f"{name} has no MaxLength"


def test_project_constants_match_the_form() -> None:
    assert c.PROJECT_NAME_MAX == 32 and len(c.LONGEST_PROJECT_ID) == c.PROJECT_ID_LENGTH == 14
    assert re.fullmatch(v.PROJECT_ID.pattern, c.LONGEST_PROJECT_ID)
    assert re.fullmatch(v.PROJECT_NAME.pattern, c.LONGEST_PROJECT_NAME)
