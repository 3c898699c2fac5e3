"""`bootstrap` gives each role of a family the policies AWS gives it, reports an existing role whose policies
differ without changing it, and makes them AWS's when asked (`--fix-policies`)."""

from __future__ import annotations

import json

import pytest

from permissions.trust import trust_policy
from scripts import iam_roles
from scripts.common import Aws


def attached(aws: Aws, role: str) -> list[str]:
    answer = aws.client("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    return sorted(p["PolicyArn"] for p in answer)


@pytest.fixture
def admin(standin_env: dict[str, str]) -> Aws:
    return Aws()


@pytest.mark.parametrize(
    ("kind", "policies"),
    [
        ("Launch", ["AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy"]),
        ("CodeBuild", ["AmazonSageMakerServiceCatalogProductsCodeBuildServiceRolePolicy"]),
        ("CodePipeline", ["service-role/AmazonSageMakerServiceCatalogProductsCodePipelineServiceRolePolicy"]),
        ("Events", ["service-role/AmazonSageMakerServiceCatalogProductsEventsServiceRolePolicy"]),
        ("Lambda", ["service-role/AmazonSageMakerServiceCatalogProductsLambdaServiceRolePolicy"]),
        (
            "CloudFormation",
            ["service-role/AmazonSageMakerServiceCatalogProductsCloudformationServiceRolePolicy"],
        ),
        ("Execution", ["AmazonSageMakerFullAccess"]),
    ],
)
def test_the_service_catalog_family_carries_aws_managed_policies_by_arn(
    admin: Aws, kind: str, policies: list[str]
) -> None:
    iam_roles.ensure_roles(admin, "service-catalog")
    role = iam_roles.role_name("service-catalog", kind)
    assert attached(admin, role) == sorted(f"arn:aws:iam::aws:policy/{p}" for p in policies)
    assert admin.client("iam").list_role_policies(RoleName=role)["PolicyNames"] == []


def test_the_launch_role_may_read_service_catalogs_copy_of_the_template(admin: Aws) -> None:
    """What the hand-written policy lacked: GetObject on any object tagged servicecatalog:provisioning."""
    (document,) = iam_roles.policy_documents(admin, "service-catalog", "Launch")
    reads = [s for s in document["Statement"] if s["Action"] == "s3:GetObject" and s["Resource"] == "*"]
    assert reads and reads[0]["Condition"] == {
        "StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}
    }
    (codebuild,) = iam_roles.policy_documents(admin, "service-catalog", "CodeBuild")
    actions = {a for s in codebuild["Statement"] for a in s["Action"]}
    assert {"sagemaker:ListTags", "sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"} <= actions


def test_the_projects_family_gets_its_own_copies_naming_its_roles(admin: Aws) -> None:
    iam_roles.ensure_roles(admin, "projects")
    account = admin.account
    assert attached(admin, "AmazonSageMakerProjectsLaunchRole") == [
        f"arn:aws:iam::{account}:policy/AmazonSageMakerAdmin-ProjectsServiceRolePolicy"
    ]
    assert attached(admin, "AmazonSageMakerProjectsExecutionRole") == [
        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    ]
    assert len(attached(admin, "AmazonSageMakerProjectsUseRole")) == 6
    (launch,) = iam_roles.policy_documents(admin, "projects", "Launch")
    (passing,) = [s for s in launch["Statement"] if s["Action"] == ["iam:PassRole"]]
    assert passing["Resource"] == ["arn:aws:iam::*:role/service-role/AmazonSageMakerProjects*"]


def test_an_existing_role_with_other_policies_is_reported_unchanged_then_fixed_when_asked(admin: Aws) -> None:
    iam = admin.client("iam")
    role = "AmazonSageMakerServiceCatalogProductsCodeBuildRole"
    trust = json.dumps(trust_policy(["codebuild.amazonaws.com"]))
    iam.create_role(RoleName=role, Path="/service-role/", AssumeRolePolicyDocument=trust)
    own = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=role, PolicyName="hand-written", PolicyDocument=json.dumps(own))
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")

    (row,) = [r for r in iam_roles.ensure_roles(admin, "service-catalog") if r["role"] == role]
    assert row["action"].startswith("exists, unchanged; its policies differ from AWS's")
    for named in ("CodeBuildServiceRolePolicy", "AmazonS3ReadOnlyAccess", "hand-written", "--fix-policies"):
        assert named in row["action"]
    assert attached(admin, role) == ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["hand-written"]

    (row,) = [
        r for r in iam_roles.ensure_roles(admin, "service-catalog", fix_policies=True) if r["role"] == role
    ]
    assert row["action"].startswith("exists; fixed its policies")
    assert attached(admin, role) == [
        "arn:aws:iam::aws:policy/AmazonSageMakerServiceCatalogProductsCodeBuildServiceRolePolicy"
    ]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []
    (row,) = [r for r in iam_roles.ensure_roles(admin, "service-catalog") if r["role"] == role]
    assert row["action"] == "exists, policies as AWS gives them"


def test_a_role_bootstrap_made_half_way_is_finished_by_the_next_run(admin: Aws) -> None:
    iam_roles.ensure_roles(admin, "service-catalog")
    role = "AmazonSageMakerServiceCatalogProductsLambdaRole"
    policy = (
        "arn:aws:iam::aws:policy/service-role/AmazonSageMakerServiceCatalogProductsLambdaServiceRolePolicy"
    )
    admin.client("iam").detach_role_policy(
        RoleName=role, PolicyArn=policy
    )  # as if it stopped before attaching
    (row,) = [r for r in iam_roles.ensure_roles(admin, "service-catalog") if r["role"] == role]
    assert row["action"] == f"attached {policy}; exists, policies as AWS gives them"
    assert attached(admin, role) == [policy]
