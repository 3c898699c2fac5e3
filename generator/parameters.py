"""The Studio form: parameters, groups and labels, SageMaker's parameter rules, the seeding conditions."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Condition, Equals, Or, Parameter, Ref, Template

from generator import constants as c
from generator import validation as v
from generator.config import TemplateConfig

GROUP_LABELS = {
    c.MODELBUILD: "ModelBuild CodeRepository Info",
    c.MODELDEPLOY: "ModelDeploy CodeRepository Info",
}
CONNECTION_GROUP_LABEL = "CodeConnection Info"
FIELD_LABELS = {
    c.URL: "URL",
    c.BRANCH: "Branch",
    c.FULLNAME: "Full Repository Name",
    c.CONNECTION: "Codestar Connection ARN",
    c.SEED_TOGGLE: "Sample Code",
}
CODE_CONNECTION_LABEL = "Code Connection ARN"
V1_FIELDS = (c.URL, c.BRANCH, c.FULLNAME, c.CONNECTION, c.SEED_TOGGLE)
V2_FIELDS = (c.BRANCH, c.FULLNAME)


@dataclass(frozen=True)
class RepoInputs:
    """What the rest of the template needs to know about one repository's fields."""

    branch: Parameter
    fullname: Parameter
    connection: Parameter
    url: Parameter | None  # v1 only
    seed_condition: str | None  # None: always seeds (v2)


@dataclass(frozen=True)
class Inputs:
    project_name: Parameter
    project_id: Parameter
    repos: dict[str, RepoInputs]
    any_seed_condition: str | None


def _rule_param(name: str, rule: v.Rule, description: str, **extra: object) -> Parameter:
    return Parameter(
        name,
        Type="String",
        Description=description,
        AllowedPattern=rule.pattern,
        ConstraintDescription=rule.description,
        MinLength=rule.min_length,
        MaxLength=rule.max_length,
        **extra,
    )


def _repo_params(repo: str, form: str) -> dict[str, Parameter]:
    what = "model build" if repo == c.MODELBUILD else "model deploy"
    params = {
        c.BRANCH: _rule_param(
            c.repo_param(repo, c.BRANCH), v.BRANCH, f"Branch of the {what} repository to use", Default="main"
        ),
        c.FULLNAME: _rule_param(
            c.repo_param(repo, c.FULLNAME),
            v.FULLNAME,
            f"Full name (owner/repository) of the {what} repository",
        ),
    }
    if form == "v1":
        params[c.URL] = _rule_param(
            c.repo_param(repo, c.URL), v.GIT_URL, f"https clone URL of the {what} repository (ends in .git)"
        )
        params[c.CONNECTION] = _rule_param(
            c.repo_param(repo, c.CONNECTION),
            v.CONNECTION_ARN,
            f"ARN of the connection (tagged sagemaker=true) that reaches the {what} repository",
        )
        params[c.SEED_TOGGLE] = Parameter(
            c.repo_param(repo, c.SEED_TOGGLE),
            Type="String",
            Description=f"Push the sample {what} code into the repository",
            AllowedValues=list(v.TRUE_FALSE),
            ConstraintDescription=v.TRUE_FALSE_DESCRIPTION,
            Default="true",
        )
    return params


def add_parameters(template: Template, config: TemplateConfig) -> Inputs:
    """Add the form's parameters, its Interface metadata and parameter rules, and the seeding conditions."""
    project_name = template.add_parameter(
        _rule_param(c.PROJECT_NAME, v.PROJECT_NAME, "Service generated", NoEcho=True)
    )
    project_id = template.add_parameter(
        _rule_param(c.PROJECT_ID, v.PROJECT_ID, "Service generated", NoEcho=True)
    )

    shared_connection = None
    if config.form == "v2":
        shared_connection = template.add_parameter(
            _rule_param(
                c.CODE_CONNECTION_ARN,
                v.CONNECTION_ARN,
                "ARN of the connection (tagged sagemaker=true) that reaches both repositories",
            )
        )
    fields = V1_FIELDS if config.form == "v1" else V2_FIELDS
    groups: list[dict[str, object]] = []
    labels: dict[str, dict[str, str]] = {}
    repos: dict[str, RepoInputs] = {}
    for repo in c.REPOS:
        params = {key: template.add_parameter(p) for key, p in _repo_params(repo, config.form).items()}
        groups.append(
            {"Label": {"default": GROUP_LABELS[repo]}, "Parameters": [params[f].title for f in fields]}
        )
        labels.update({params[f].title: {"default": FIELD_LABELS[f]} for f in fields})
        condition = None
        if config.form == "v1":
            condition = c.CONDITION_SEED[repo]
            toggle = Ref(params[c.SEED_TOGGLE])
            template.add_condition(
                condition, Equals("true", "true") if config.all_conditions_on else Equals(toggle, "true")
            )
        repos[repo] = RepoInputs(
            branch=params[c.BRANCH],
            fullname=params[c.FULLNAME],
            connection=params[c.CONNECTION] if shared_connection is None else shared_connection,
            url=params.get(c.URL),
            seed_condition=condition,
        )
    any_condition = None
    if config.form == "v1":
        any_condition = c.CONDITION_ANY_SEED
        template.add_condition(any_condition, Or(*(Condition(c.CONDITION_SEED[r]) for r in c.REPOS)))
    if shared_connection is not None:
        groups.append({"Label": {"default": CONNECTION_GROUP_LABEL}, "Parameters": [c.CODE_CONNECTION_ARN]})
        labels[c.CODE_CONNECTION_ARN] = {"default": CODE_CONNECTION_LABEL}

    template.set_metadata(
        {
            "AWS::CloudFormation::Interface": {"ParameterGroups": groups, "ParameterLabels": labels},
            "SagemakerTemplateParameterRules": {
                c.repo_param(repo, c.BRANCH): {"Optional": True} for repo in c.REPOS
            },
        }
    )
    return Inputs(
        project_name=project_name, project_id=project_id, repos=repos, any_seed_condition=any_condition
    )
