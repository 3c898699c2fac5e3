"""`register` on the stand-in: three runs give one of everything; a failure after any step is finished."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standin_world import catalog_counts, fail_once, no_sleep, record_calls, scientist, studio_role

from scripts import servicecatalog
from scripts.common import Aws, CommandError, NotFound
from scripts.iam_roles import ensure_roles
from scripts.servicecatalog import RegisterOptions, register

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: test product {version}
Parameters:
  SageMakerProjectName:
    Type: String
  SageMakerProjectId:
    Type: String
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub sagemaker-project-${{SageMakerProjectId}}
"""


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "mlops-third-party-git-v1.yaml"
    path.write_text(TEMPLATE.format(version=1))
    return path


def options(aws: Aws, template: Path, **kwargs: object) -> RegisterOptions:
    return RegisterOptions(template_file=template, studio_role_arns=[studio_role(aws)], **kwargs)  # type: ignore[arg-type]


def snapshot(aws: Aws) -> dict[str, object]:
    return dict(catalog_counts(aws))


def constraint_roles(aws: Aws) -> list[str]:
    """The launch role each constraint of each portfolio names."""
    sc = aws.client("servicecatalog")
    return [
        json.loads(sc.describe_constraint(Id=c["ConstraintId"])["ConstraintParameters"])["RoleArn"]
        for p in sc.list_portfolios()["PortfolioDetails"]
        for c in sc.list_constraints_for_portfolio(PortfolioId=p["Id"])["ConstraintDetails"]
    ]


def principals(aws: Aws) -> list[list[str]]:
    """Each portfolio's principals' ARNs."""
    sc = aws.client("servicecatalog")
    return [
        [x["PrincipalARN"] for x in sc.list_principals_for_portfolio(PortfolioId=p["Id"])["Principals"]]
        for p in sc.list_portfolios()["PortfolioDetails"]
    ]


def test_three_runs_give_one_portfolio_one_product_one_version(aws: Aws, template: Path) -> None:
    results = [register(aws, options(aws, template), sleep=no_sleep) for _ in range(3)]
    assert snapshot(aws) == {
        "portfolios": 1,
        "products": 1,
        "versions": 1,
        "links": 1,
        "constraints": 1,
        "principals": 1,
    }
    assert len({r.product_id for r in results}) == 1
    assert len({r.artifact_id for r in results}) == 1
    second = {a["step"]: a["action"] for a in results[1].actions}
    assert second["portfolio"].startswith("exists")
    assert second["product"].startswith("exists")
    assert second["version"].startswith("v1 holds this template")
    assert second["launch-constraint"] == "exists"
    # the product is visible in Studio and the launch constraint names the family's launch role
    tags = aws.client("servicecatalog").describe_product_as_admin(Id=results[0].product_id)["Tags"]
    assert {"Key": "sagemaker:studio-visibility", "Value": "true"} in tags
    (role,) = constraint_roles(aws)
    assert (
        role
        == f"arn:aws:iam::{aws.account}:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole"
    )


def test_the_asset_bucket_is_encrypted_private_and_holds_the_template_and_seeds(
    aws: Aws, template: Path
) -> None:
    result = register(aws, options(aws, template), sleep=no_sleep)
    s3 = aws.client("s3")
    bucket = f"sagemaker-mlops-assets-{aws.account}-{aws.region}"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    from seeding.assets import build_assets

    assert {a.key for a in build_assets().values()} <= keys
    assert result.template_url is not None
    template_key = result.template_url.split(".amazonaws.com/", 1)[1]
    assert s3.get_object(Bucket=bucket, Key=template_key)["Body"].read() == template.read_bytes()


def test_the_asset_bucket_takes_tls_only_and_project_access_logs(aws: Aws, template: Path) -> None:
    first = register(aws, options(aws, template), sleep=no_sleep)
    bucket = f"sagemaker-mlops-assets-{aws.account}-{aws.region}"
    policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    deny = by_sid["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    logs = by_sid["AllowProjectBucketAccessLogs"]
    assert logs["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert logs["Resource"] == [f"arn:aws:s3:::{bucket}/access-logs/*"]
    assert logs["Condition"]["StringEquals"] == {"aws:SourceAccount": aws.account}
    assert "policy set" in first.actions[0]["action"]
    again = register(aws, options(aws, template), sleep=no_sleep)
    assert "policy up to date" in again.actions[0]["action"]


def test_a_changed_template_adds_one_version_and_deprecates_the_old(aws: Aws, template: Path) -> None:
    first = register(aws, options(aws, template), sleep=no_sleep)
    template.write_text(TEMPLATE.format(version=2))
    second = register(aws, options(aws, template), sleep=no_sleep)
    third = register(aws, options(aws, template), sleep=no_sleep)
    assert second.artifact_id != first.artifact_id
    assert third.artifact_id == second.artifact_id
    artifacts = aws.client("servicecatalog").list_provisioning_artifacts(ProductId=first.product_id)
    assert [(a["Name"], a["Guidance"]) for a in artifacts["ProvisioningArtifactDetails"]] == [
        ("v1", "DEPRECATED"),
        ("v2", "DEFAULT"),
    ]


@pytest.mark.parametrize("failed_after", servicecatalog.STEPS)
def test_a_failure_after_each_step_then_a_rerun_duplicates_nothing(
    aws: Aws, template: Path, failed_after: str
) -> None:
    def explode(step: str) -> None:
        if step == failed_after:
            raise RuntimeError(f"injected failure after {step}")

    with pytest.raises(RuntimeError, match="injected"):
        register(aws, options(aws, template), after_step=explode, sleep=no_sleep)
    register(aws, options(aws, template), sleep=no_sleep)
    register(aws, options(aws, template), sleep=no_sleep)
    assert snapshot(aws) == {
        "portfolios": 1,
        "products": 1,
        "versions": 1,
        "links": 1,
        "constraints": 1,
        "principals": 1,
    }


def test_the_launch_constraint_is_retried_while_iam_propagates(
    aws: Aws, template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A role made seconds ago is not yet assumable on AWS; the stand-in's IAM is consistent at once, so
    # the refusal AWS gives meanwhile is injected into the client.
    calls = record_calls(monkeypatch)
    fail_once(
        aws.client("servicecatalog"),
        "CreateConstraint",
        code="InvalidParametersException",
        status=400,
        message="role cannot be assumed",
    )
    register(aws, options(aws, template), sleep=no_sleep)
    assert calls.count("servicecatalog.CreateConstraint") == 2
    assert snapshot(aws)["constraints"] == 1


def test_dry_run_changes_nothing(aws: Aws, template: Path) -> None:
    result = register(aws, options(aws, template, dry_run=True), sleep=no_sleep)
    assert snapshot(aws) == {
        "portfolios": 0,
        "products": 0,
        "versions": 0,
        "links": 0,
        "constraints": 0,
        "principals": 0,
    }
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert all(a["action"].startswith("would") or "would" in a["action"] for a in result.actions)


def test_studio_roles_are_discovered_from_the_domains(aws: Aws, template: Path) -> None:
    # moto answers create_domain; its DefaultUserSettings carry the execution role Studio users run as
    aws.client("sagemaker").create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": studio_role(aws)},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )
    register(aws, RegisterOptions(template_file=template), sleep=no_sleep)
    assert principals(aws) == [[studio_role(aws)]]


def test_no_studio_role_is_a_precondition_error(
    aws: Aws, template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_calls(monkeypatch)
    with pytest.raises(NotFound, match="--studio-role-arn"):
        register(aws, RegisterOptions(template_file=template), sleep=no_sleep)
    assert [c for c in calls if c.startswith("servicecatalog.")] == []


def test_deregister_undoes_register_and_refuses_while_a_project_uses_it(aws: Aws, template: Path) -> None:
    result = register(aws, options(aws, template), sleep=no_sleep)
    scientist(aws).client("sagemaker").create_project(
        ProjectName="in-use",
        ServiceCatalogProvisioningDetails={
            "ProductId": str(result.product_id),
            "ProvisioningArtifactId": str(result.artifact_id),
        },
    )
    with pytest.raises(NotFound, match="in-use"):
        servicecatalog.deregister(aws, options(aws, template))
    rows = servicecatalog.deregister(aws, options(aws, template), force=True)
    assert snapshot(aws)["products"] == 0 and snapshot(aws)["portfolios"] == 0
    assert any(r["resource"].startswith("portfolio") for r in rows)


def test_bootstrap_then_register_uses_the_created_launch_role(standin_env: dict, template: Path) -> None:
    aws = Aws()  # an account before `bootstrap`: no service role yet
    rows = ensure_roles(aws, "service-catalog")
    assert {r["action"].split(" with ")[0] for r in rows} == {"created"}
    again = ensure_roles(aws, "service-catalog")
    assert {r["action"] for r in again} == {"exists, policies as AWS gives them"}
    iam = aws.client("iam")
    launch = iam.get_role(RoleName="AmazonSageMakerServiceCatalogProductsLaunchRole")["Role"]
    trust = launch["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == ["servicecatalog.amazonaws.com"]
    register(aws, options(aws, template), sleep=no_sleep)
    assert constraint_roles(aws) == [launch["Arn"]]


def test_a_template_naming_other_seed_zips_is_refused_before_anything_is_made(
    aws: Aws, template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_calls(monkeypatch)
    template.write_text(
        TEMPLATE.format(version=1) + "# SeedCodeKey: seedcode/modelbuild-0000000000000000.zip\n"
    )
    with pytest.raises(CommandError, match="make templates"):
        register(aws, options(aws, template), sleep=no_sleep)
    assert [c for c in calls if c.startswith("servicecatalog.")] == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
