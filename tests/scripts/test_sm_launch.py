"""`project create` as a data scientist's Studio role: the end-user API only, and a refusal that names the
identity to add when the caller has no launch path; `register --add-caller` makes the caller a principal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standin_world import fast, no_sleep, record_calls, repos, scientist, studio_role

from demo.account import as_role
from permissions.trust import trust_policy
from scripts import product_view, projects
from scripts.common import Aws, NotFound
from scripts.servicecatalog import RegisterOptions, register

ADMIN_CALLS = {
    "servicecatalog.SearchProductsAsAdmin",
    "servicecatalog.ListProvisioningArtifacts",
    "servicecatalog.DescribeProvisioningArtifact",
    "servicecatalog.DescribeProductAsAdmin",
}
CONNECTION = (
    "arn:aws:codestar-connections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
)


def registered(aws: Aws, template: Path, **kwargs: object) -> str:
    options = RegisterOptions(template_file=template, studio_role_arns=[studio_role(aws)], **kwargs)  # type: ignore[arg-type]
    product = register(aws, options, sleep=no_sleep).product_id
    assert product
    return product


def other_role(
    aws: Aws,
    name: str = "AmazonSageMaker-ExecutionRole-other",
    path: str = "/service-role/",
    policy: str = "AmazonSageMakerFullAccess",
) -> str:
    """A role the admin's account may assume, with one AWS managed policy (a Studio role's, by default)."""
    iam = aws.client("iam")
    trust = json.dumps(trust_policy(["sagemaker.amazonaws.com"], accounts=[aws.account]))
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    return str(arn)


def test_create_as_the_studio_role_uses_the_end_user_api_only(
    aws: Aws, v1: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = registered(aws, v1)
    studio = scientist(aws)
    calls = record_calls(monkeypatch)
    result = projects.create_project(studio, "enduser", product, repos("enduser", CONNECTION), {}, wait=False)
    assert result["status"] in {"Pending", "CreateInProgress", "CreateCompleted"}
    catalog = [c for c in calls if c.startswith("servicecatalog.")]
    assert catalog == [
        "servicecatalog.ListLaunchPaths",
        "servicecatalog.DescribeProduct",
        "servicecatalog.DescribeProvisioningParameters",
    ]
    assert not ADMIN_CALLS & set(calls)


def test_the_product_is_found_by_name_among_those_the_caller_may_launch(aws: Aws, v1: Path) -> None:
    from scripts.servicecatalog import product_name_for

    product = registered(aws, v1)
    assert product_view.find_product_id(scientist(aws), product_name_for("v1", "service-catalog")) == product


def test_a_caller_without_launch_path_is_told_which_identity_to_add_and_how(aws: Aws, v1: Path) -> None:
    product = registered(aws, v1)
    role = other_role(aws)
    outsider = as_role(aws, role)
    for attempt in (
        lambda: projects.create_project(
            outsider, "nope", product, repos("nope", CONNECTION), {}, waiter=fast()
        ),
        lambda: product_view.find_product_id(outsider, "any product"),
    ):
        with pytest.raises(NotFound) as caught:
            attempt()
        message = str(caught.value)
        assert "assumed-role/AmazonSageMaker-ExecutionRole-other/" in message
        # The outsider may not read IAM (iam:GetRole), so the role's path is unknown to it: the name is given.
        assert f"sm-mlops register --studio-role-arn arn:aws:iam::{aws.account}:role/" in message
        assert role.rsplit("/", 1)[-1] in message
        assert "--add-caller" in message
    assert aws.client("sagemaker").list_projects()["ProjectSummaryList"] == []


def test_register_add_caller_makes_the_callers_role_a_principal(aws: Aws, v1: Path) -> None:
    role = other_role(aws, "ci-admin", "/team/", policy="AdministratorAccess")
    caller = as_role(aws, role)
    product = registered(caller, v1, add_caller=True)
    principals = aws.client("servicecatalog").list_principals_for_portfolio(
        PortfolioId=aws.client("servicecatalog").list_portfolios_for_product(ProductId=product)[
            "PortfolioDetails"
        ][0]["Id"]
    )["Principals"]
    assert {p["PrincipalARN"] for p in principals} == {studio_role(aws), role}  # the role, with its path
    assert product_view.look_up(caller, product).product_id == product
