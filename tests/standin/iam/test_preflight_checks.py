"""The policy simulator and the SageMaker quotas the stand-in answers for `sm-mlops preflight`."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from standin.iam.policy_simulator import evaluate

ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/Launch"
PASS_USE = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/service-role/Use*"}


@pytest.mark.parametrize(
    ("case", "statements", "decision", "missing"),
    [
        ("matching allow", [PASS_USE], "allowed", []),
        ("other resource", [{**PASS_USE, "Resource": "arn:aws:iam::*:role/Other"}], "implicitDeny", []),
        ("other action", [{**PASS_USE, "Action": ["iam:GetRole"]}], "implicitDeny", []),
        ("deny wins", [PASS_USE, {**PASS_USE, "Effect": "Deny"}], "explicitDeny", []),
        (
            "a condition needs context",
            [{**PASS_USE, "Condition": {"StringEquals": {"iam:PassedToService": "codebuild.amazonaws.com"}}}],
            "implicitDeny",
            ["iam:PassedToService"],
        ),
        ("wildcard action", [{**PASS_USE, "Action": "iam:*"}], "allowed", []),
    ],
)
def test_evaluate(case: str, statements: list, decision: str, missing: list) -> None:
    document = {"Version": "2012-10-17", "Statement": statements}
    assert evaluate([document], "iam:PassRole", "arn:aws:iam::123456789012:role/service-role/UseRole") == (
        decision,
        missing,
    )


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


def test_sagemaker_quotas_cover_the_seed_instance_types(standin) -> None:
    quotas = standin.client("service-quotas").list_service_quotas(ServiceCode="sagemaker")["Quotas"]
    names = {q["QuotaName"]: q["Value"] for q in quotas}
    assert names["ml.m5.xlarge for training job usage"] >= 1
    assert names["ml.m5.large for endpoint usage"] >= 1
    assert standin.client("service-quotas").list_service_quotas(ServiceCode="ec2")["Quotas"] == []
