"""`sm-mlops preflight` checks every action of the permission table for the role that makes it, through the
stand-in's policy simulator, and names each action a role is refused with the role."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator import constants as c
from permissions import FAMILY_KINDS, STUDIO, needs
from permissions.trust import trust_policy
from scripts import preflight
from scripts.cli import main
from scripts.common import Aws
from scripts.iam_roles import SERVICE_ROLE_PATH, TRUSTED

FAMILY = "service-catalog"
STUDIO_ROLE = "AmazonSageMaker-ExecutionRole-preflight"
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
# One action of each role's steps, denied in turn.
DENIED = {
    "Launch": "s3:PutEncryptionConfiguration",
    "CodeBuild": "sagemaker:ListTags",
    "CodePipeline": "codebuild:StartBuild",
    "Events": "codepipeline:StartPipelineExecution",
    "Lambda": "codebuild:BatchGetBuilds",
    "CloudFormation": "sagemaker:CreateEndpoint",
    "Execution": "sagemaker:CreateTrainingJob",
    STUDIO: "servicecatalog:ProvisionProduct",
}


@pytest.fixture
def account(standin_env: dict[str, str], cached_assets: None) -> Aws:
    """The family's roles and a Studio role, each allowed everything (no policy of `bootstrap`'s)."""
    aws = Aws()
    iam = aws.client("iam")
    for kind in FAMILY_KINDS:
        name = c.role_name(FAMILY, kind)
        iam.create_role(
            Path=SERVICE_ROLE_PATH,
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust_policy(TRUSTED[kind])),
        )
        iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=document(ALLOW_ALL))
    trust = json.dumps(trust_policy(["sagemaker.amazonaws.com"]))
    iam.create_role(RoleName=STUDIO_ROLE, AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName=STUDIO_ROLE, PolicyName="all", PolicyDocument=document(ALLOW_ALL))
    return aws


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def role_of(kind: str) -> str:
    return STUDIO_ROLE if kind == STUDIO else c.role_name(FAMILY, kind)


def studio_arn(aws: Aws) -> str:
    return f"arn:aws:iam::{aws.account}:role/{STUDIO_ROLE}"


def refused(aws: Aws) -> dict[tuple[str, str], dict[str, str]]:
    """(role, action) -> row, for every action preflight says a role is refused."""
    rows = preflight.preflight(aws, FAMILY, "no-such-product", None, [studio_arn(aws)])
    found = {}
    for row in rows:
        role, may, action = row["check"].partition(" may ")
        if may:
            found[(role, action)] = row
    return found


def test_roles_allowed_everything_pass_every_permission_check(account: Aws) -> None:
    rows = preflight.preflight(account, FAMILY, "no-such-product", None, [studio_arn(account)])
    checked = {r["check"]: r for r in rows if r["check"].startswith("permissions of ")}
    kinds = [k for k in (*FAMILY_KINDS, STUDIO) if needs(k)]
    assert set(checked) == {f"permissions of {role_of(k)}" for k in kinds}
    assert {r["status"] for r in checked.values()} == {"ok"}
    assert refused(account) == {}


def test_a_deny_of_one_action_per_role_is_named_with_exactly_that_role(account: Aws) -> None:
    iam = account.client("iam")
    for kind, action in DENIED.items():
        deny = {"Effect": "Deny", "Action": action, "Resource": "*"}
        iam.put_role_policy(RoleName=role_of(kind), PolicyName="deny-one", PolicyDocument=document(deny))
    found = refused(account)
    assert set(found) == {(role_of(kind), action) for kind, action in DENIED.items()}
    for row in found.values():
        assert row["status"] == "problem"
        assert "explicitDeny" in row["detail"] and "needed for: " in row["detail"]


def test_a_role_policy_without_the_sdks_calls_is_named(account: Aws) -> None:
    """A CodeBuild role as `bootstrap` writes it today lacks what the SDK's Pipeline.upsert and the deploy
    repository's staging test call."""
    lacking = ["sagemaker:ListTags", "sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"]
    role = role_of("CodeBuild")
    statement = {"Effect": "Allow", "NotAction": lacking, "Resource": "*"}
    account.client("iam").put_role_policy(RoleName=role, PolicyName="all", PolicyDocument=document(statement))
    found = refused(account)
    assert set(found) == {(role, action) for action in lacking}
    assert "implicitDeny" in found[(role, "sagemaker:ListTags")]["detail"]
    assert "Pipeline.upsert" in found[(role, "sagemaker:ListTags")]["detail"]


def test_a_condition_the_request_does_not_meet_is_a_refusal(account: Aws) -> None:
    """AWS's launch policy reads Service Catalog's template copy only when it is tagged for provisioning: the
    request carries that tag, so a policy asking for another value refuses it."""
    role = role_of("Launch")
    tagged = {"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}}
    other = {"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "false"}}
    iam = account.client("iam")
    reads = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    rest = {"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "*"}
    iam.put_role_policy(
        RoleName=role, PolicyName="all", PolicyDocument=document(rest, {**reads, "Condition": tagged})
    )
    assert refused(account) == {}
    iam.put_role_policy(
        RoleName=role, PolicyName="all", PolicyDocument=document(rest, {**reads, "Condition": other})
    )
    assert set(refused(account)) == {(role, "s3:GetObject")}


def test_the_command_fails_naming_the_refusals_or_warns_when_asked(
    account: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    deny = {"Effect": "Deny", "Action": DENIED["CodeBuild"], "Resource": "*"}
    role = role_of("CodeBuild")
    account.client("iam").put_role_policy(RoleName=role, PolicyName="deny-one", PolicyDocument=document(deny))
    args = ["--output", "json", "preflight", "--studio-role-arn", studio_arn(account)]
    assert main(args) != 0
    assert f"{role} may sagemaker:ListTags" in capsys.readouterr().err
    main([*args, "--permissions-as-warnings"])  # still fails: no product is registered in this account
    err = capsys.readouterr().err
    assert "no product" in err and "sagemaker:ListTags" not in err
    rows = preflight.preflight(
        account, FAMILY, "none", None, [studio_arn(account)], permission_status="warning"
    )
    assert {r["status"] for r in rows if " may " in r["check"]} == {"warning"}
