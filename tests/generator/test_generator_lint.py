"""cfn-lint on every variant, and a table of parameter values judged alike by cfn-lint and our validator.

cfn-lint runs as a subprocess, batched: one run for all variants, one for the whole value table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from generator_helpers import example_values, template_of

from generator.config import TemplateConfig
from generator.render import render
from generator.validation import check_parameters

CFN_LINT = [str(Path(sys.executable).with_name("cfn-lint"))]
ARN = "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
BRANCH, URL, FULLNAME = (
    "ModelBuildCodeRepositoryBranch",
    "ModelBuildCodeRepositoryUrl",
    "ModelDeployCodeRepositoryFullname",
)
CONNECTION, NAME, PROJECT_ID = (
    "ModelBuildCodeRepositoryCodestarConnectionArn",
    "SageMakerProjectName",
    "SageMakerProjectId",
)

# (case, parameter, value, valid) — every value distinct, so cfn-lint's messages can be told apart.
VALUES = [
    ("branch main", BRANCH, "main", True),
    ("branch with folder", BRANCH, "release/1.0", True),
    ("branch with mixed characters", BRANCH, "feature/JIRA-12_x+y", True),
    ("branch with ..", BRANCH, "bad..branch", False),
    ("branch starting with -", BRANCH, "-leading", False),
    ("branch starting with /", BRANCH, "/leading", False),
    ("branch ending with /", BRANCH, "trailing/", False),
    ("branch with space", BRANCH, "has space", False),
    ("branch ending in .lock", BRANCH, "topic.lock", False),
    ("branch part ending in .lock", BRANCH, "topic.lock/x", False),
    ("branch with @{", BRANCH, "a@{b", False),
    ("branch with ~", BRANCH, "x~y", False),
    ("branch with :", BRANCH, "colon:x", False),
    ("branch with ?", BRANCH, "why?", False),
    ("branch with *", BRANCH, "star*", False),
    ("branch with [", BRANCH, "br[acket", False),
    ("branch ending in .", BRANCH, "ends.", False),
    ("branch with //", BRANCH, "a//b", False),
    ("branch with backslash", BRANCH, "back\\slash", False),
    ("branch part starting with .", BRANCH, "a/.b", False),
    ("branch @", BRANCH, "@", False),
    ("github url", URL, "https://github.com/my-org/repo.git", True),
    ("gitlab subgroup url", URL, "https://gitlab.com/group/sub/repo.git", True),
    ("url with port", URL, "https://git.example.com:8443/team/repo.git", True),
    ("http url", URL, "http://github.com/my-org/repo.git", False),
    ("url without .git", URL, "https://github.com/my-org/repo", False),
    ("ssh url", URL, "git@github.com:my-org/repo.git", False),
    ("url with credentials", URL, "https://user:pw@github.com/my-org/repo.git", False),
    ("full name", FULLNAME, "my-org/my-repo", True),
    ("gitlab subgroups", FULLNAME, "group/subgroup/repo", True),
    ("dot repository", FULLNAME, "my-org/.github", True),
    ("no owner", FULLNAME, "my-repo", False),
    ("trailing .git", FULLNAME, "my-org/my-repo.git", False),
    ("empty repository", FULLNAME, "my-org/", False),
    ("no owner, leading slash", FULLNAME, "/my-repo", False),
    ("space in name", FULLNAME, "my-org/my repo", False),
    ("parent folder", FULLNAME, "my-org/..", False),
    ("codeconnections arn", CONNECTION, ARN, True),
    ("codestar-connections arn", CONNECTION, ARN.replace("codeconnections", "codestar-connections"), True),
    (
        "china partition arn",
        CONNECTION,
        ARN.replace("aws:", "aws-cn:", 1).replace("us-east-1", "cn-north-1"),
        True,
    ),
    (
        "govcloud arn",
        CONNECTION,
        ARN.replace("aws:", "aws-us-gov:", 1).replace("us-east-1", "us-gov-west-1"),
        True,
    ),
    ("codecommit arn", CONNECTION, ARN.replace("codeconnections", "codecommit"), False),
    ("upper-case connection id", CONNECTION, ARN.replace("0a1b2c3d", "0A1B2C3D"), False),
    ("short account", CONNECTION, ARN.replace("123456789012", "12345"), False),
    ("no connection/ prefix", CONNECTION, ARN.replace("connection/", ""), False),
    ("project name", NAME, "demo", True),
    ("32-character name", NAME, "a" * 32, True),
    ("name with hyphens", NAME, "my--project-1", True),
    ("name starting with digit", NAME, "1abc", False),
    ("name with space", NAME, "abc def", False),
    ("33-character name", NAME, "b" * 33, False),
    ("name ending with -", NAME, "ends-", False),
    ("name with underscore", NAME, "under_score", False),
    ("project id", PROJECT_ID, "p-abcdef123456", True),
    ("upper-case id", PROJECT_ID, "p-ABCDEF123456", False),
    ("short id", PROJECT_ID, "p-abc", False),
]


def lint(paths: list[Path], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CFN_LINT, *extra, "--", *map(str, paths)], capture_output=True, text=True, check=False
    )


def test_cfn_lint_reports_nothing_on_any_variant(tmp_path: Path) -> None:
    paths = sorted((Path(__file__).resolve().parents[2] / "templates").glob("*.yaml"))
    assert len(paths) == 4
    options = TemplateConfig(
        own_launch_role=True,
        role_arns={"CodeBuild": "arn:aws:iam::123456789012:role/sagemaker-mine"},
        bucket_versioning=True,
        kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666",
    )
    for name, config in [
        ("own-options", options),
        ("v2-all-on", TemplateConfig(form="v2", all_conditions_on=True)),
    ]:
        path = tmp_path / f"{name}.yaml"
        path.write_text(render(config))
        paths.append(path)
    result = lint(paths, "--include-checks", "I")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_value_table_is_large_enough_and_balanced() -> None:
    assert len(VALUES) >= 20
    assert len({value for _, _, value, _ in VALUES}) == len(VALUES), "values must be distinct"
    assert {valid for *_, valid in VALUES} == {True, False}


@pytest.fixture(scope="module")
def cfn_lint_refusals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run the whole table through `cfn-lint --parameters` once; value -> cfn-lint's message for it.

    cfn-lint 1.58's deployment-parameter rule (E2900) reads a parameter's constraint from a key named
    `Pattern`, not `AllowedPattern`, so on a real template `--parameters` checks only required-ness and the
    resolved resource properties. Each case here gets a parameter copying the rendered template's constraint,
    with the AllowedPattern also under `Pattern`, so cfn-lint's own validator (re.search) judges the value.
    """
    rendered = template_of("mlops-third-party-git-v1")["Parameters"]
    params, given = {}, []
    for index, (_, parameter, value, _) in enumerate(VALUES):
        spec = dict(rendered[parameter])
        spec["Pattern"] = spec["AllowedPattern"]
        params[f"Case{index:02d}"] = spec
        given.append(f"Case{index:02d}={value}")
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": params,
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
    }
    path = tmp_path_factory.mktemp("cfnlint") / "values.json"
    path.write_text(json.dumps(template))
    result = lint([path], "--format", "json", "--parameters", *given)
    findings = json.loads(result.stdout or "[]")
    refusals: dict[str, str] = {}
    for finding in findings:
        if finding["Rule"]["Id"] != "E2900":
            continue
        for _, _, value, _ in VALUES:
            if finding["Message"].startswith(repr(value) + " "):
                refusals[value] = finding["Message"]
    return refusals


@pytest.mark.parametrize(("case", "parameter", "value", "valid"), VALUES, ids=[case for case, *_ in VALUES])
def test_cfn_lint_and_the_validator_agree(
    case: str, parameter: str, value: str, valid: bool, cfn_lint_refusals: dict[str, str]
) -> None:
    template = template_of("mlops-third-party-git-v1")
    problems = check_parameters(template, example_values("v1", **{parameter: value}))
    assert (not problems) == valid, [str(p) for p in problems]
    assert (value not in cfn_lint_refusals) == valid, cfn_lint_refusals.get(value, "cfn-lint accepted it")
    for problem in problems:
        assert problem.name == parameter and problem.value == value
        assert template["Parameters"][parameter]["ConstraintDescription"] in problem.message


@pytest.mark.parametrize("form", ["v1", "v2"])
def test_a_good_value_set_passes_cfn_lint_on_the_real_template(form: str, tmp_path: Path) -> None:
    path = tmp_path / f"{form}.yaml"
    path.write_text(render(TemplateConfig(form=form)))
    values = example_values(form)
    assert check_parameters(yaml.safe_load(path.read_text()), values) == []
    result = lint([path], "--parameters", *(f"{k}={v}" for k, v in values.items()))
    assert (result.returncode, result.stdout) == (0, "")
