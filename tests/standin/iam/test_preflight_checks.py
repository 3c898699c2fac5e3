"""The policy simulator and the SageMaker quotas the stand-in answers for `sm-mlops preflight`."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend

ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/Launch"
USE_ROLE = "arn:aws:iam::123456789012:role/service-role/UseRole"
PASS_USE = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/service-role/Use*"}


def test_simulate_principal_policy_reads_the_roles_inline_and_attached_policies(standin) -> None:
    iam = standin.client("iam")
    iam.create_role(RoleName="Launch", Path="/service-role/", AssumeRolePolicyDocument="{}")
    iam.put_role_policy(
        RoleName="Launch",
        PolicyName="pass",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [PASS_USE]}),
    )
    answer = iam.simulate_principal_policy(
        PolicySourceArn=ROLE_ARN,
        ActionNames=["iam:PassRole"],
        ResourceArns=[
            "arn:aws:iam::123456789012:role/service-role/UseRole",
            "arn:aws:iam::123456789012:role/AdminRole",
        ],
    )
    decisions = {
        r["EvalResourceName"].rsplit("/", 1)[1]: r["EvalDecision"] for r in answer["EvaluationResults"]
    }
    assert decisions == {"UseRole": "allowed", "AdminRole": "implicitDeny"}
    with pytest.raises(ClientError, match="cannot be found"):
        iam.simulate_principal_policy(PolicySourceArn=ROLE_ARN + "-missing", ActionNames=["iam:PassRole"])


def test_the_simulator_evaluates_attached_policies_with_the_context_given(standin) -> None:
    """A customer managed policy's default version, its conditions against ContextEntries, Deny over Allow."""
    iam = standin.client("iam")
    iam.create_role(RoleName="Launch", Path="/service-role/", AssumeRolePolicyDocument="{}")
    to_sagemaker = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    statements = [
        {**PASS_USE, "Condition": to_sagemaker},
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/service-role/UseAdmin"},
    ]
    arn = iam.create_policy(
        PolicyName="pass", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [PASS_USE]})
    )["Policy"]["Arn"]
    iam.create_policy_version(
        PolicyArn=arn,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        SetAsDefault=True,
    )
    iam.attach_role_policy(RoleName="Launch", PolicyArn=arn)

    def simulate(role: str, *context: str) -> tuple[str, list[str]]:
        entries = [
            {
                "ContextKeyName": "iam:PassedToService",
                "ContextKeyValues": list(context),
                "ContextKeyType": "string",
            }
        ]
        (result,) = iam.simulate_principal_policy(
            PolicySourceArn=ROLE_ARN,
            ActionNames=["iam:PassRole"],
            ResourceArns=[f"arn:aws:iam::123456789012:role/service-role/{role}"],
            ContextEntries=entries if context else [],
        )["EvaluationResults"]
        return result["EvalDecision"], result["MissingContextValues"]

    assert simulate("UseRole", "sagemaker.amazonaws.com") == ("allowed", [])
    assert simulate("UseRole", "lambda.amazonaws.com") == ("implicitDeny", [])
    assert simulate("UseRole") == ("implicitDeny", ["iam:PassedToService"])
    assert simulate("UseAdmin", "sagemaker.amazonaws.com") == ("explicitDeny", [])
    untyped = [{"ContextKeyName": "iam:PassedToService", "ContextKeyValues": ["sagemaker.amazonaws.com"]}]
    (result,) = iam.simulate_principal_policy(
        PolicySourceArn=ROLE_ARN,
        ActionNames=["iam:PassRole"],
        ResourceArns=[USE_ROLE],
        ContextEntries=untyped,
    )["EvaluationResults"]
    assert result["EvalDecision"] == "allowed"  # ContextKeyType is optional
    with pytest.raises(ClientError, match="contextKeyType"):
        iam.simulate_principal_policy(
            PolicySourceArn=ROLE_ARN,
            ActionNames=["iam:PassRole"],
            ContextEntries=[{**untyped[0], "ContextKeyType": "text"}],
        )


def test_sagemaker_quotas_cover_the_seed_instance_types(standin) -> None:
    quotas = standin.client("service-quotas").list_service_quotas(ServiceCode="sagemaker")["Quotas"]
    names = {q["QuotaName"]: q["Value"] for q in quotas}
    assert names["ml.m5.xlarge for training job usage"] >= 1
    assert names["ml.m5.large for endpoint usage"] >= 1
    assert standin.client("service-quotas").list_service_quotas(ServiceCode="ec2")["Quotas"] == []


def test_the_simulator_evaluates_aws_managed_policies(standin, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto knows AWS's managed policies only when MOTO_IAM_LOAD_MANAGED_POLICIES is true as its IAM backend
    is made; attached, their default version is evaluated like any other policy."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    get_backend("iam").reset()
    iam = standin.client("iam")
    iam.create_role(RoleName="CodeBuild", Path="/service-role/", AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(
        RoleName="CodeBuild",
        PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerServiceCatalogProductsCodeBuildServiceRolePolicy",
    )
    role = "arn:aws:iam::123456789012:role/service-role/CodeBuild"
    connection = (
        "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
    )

    def decide(action: str, resource: str, **context: str) -> tuple[str, list[str]]:
        entries = [
            {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
            for k, v in context.items()
        ]
        (result,) = iam.simulate_principal_policy(
            PolicySourceArn=role, ActionNames=[action], ResourceArns=[resource], ContextEntries=entries
        )["EvaluationResults"]
        return result["EvalDecision"], result["MissingContextValues"]

    pipeline = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/sagemaker-p-1"
    assert decide("sagemaker:ListTags", pipeline) == ("allowed", [])
    assert (
        decide("sagemaker:ListTags", "arn:aws:sagemaker:us-east-1:123456789012:domain/d-1")[0]
        == "implicitDeny"
    )
    tagged = {"aws:ResourceTag/sagemaker": "true"}
    assert decide("codeconnections:UseConnection", connection, **tagged) == ("allowed", [])
    assert decide("codeconnections:UseConnection", connection) == (
        "implicitDeny",
        ["aws:ResourceTag/sagemaker"],
    )
