"""`register`: three runs give one of everything; a failure after any step is finished by a re-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sm_fakes import ACCOUNT, REGION, STUDIO_ROLE, World, no_sleep

from scripts import servicecatalog
from scripts.common import CommandError, NotFound
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


def options(template: Path, **kwargs: object) -> RegisterOptions:
    return RegisterOptions(template_file=template, studio_role_arns=[STUDIO_ROLE], **kwargs)  # type: ignore[arg-type]


def snapshot(world: World) -> dict[str, object]:
    sc = world.sc
    return {
        "portfolios": len(sc.portfolios),
        "products": len(sc.products),
        "versions": sum(len(a) for a in sc.artifacts.values()),
        "links": len(sc.links),
        "constraints": len(sc.constraints),
        "principals": sum(len(p) for p in sc.principals.values()),
    }


def test_three_runs_give_one_portfolio_one_product_one_version(world: World, template: Path) -> None:
    results = [register(world.aws, options(template), sleep=no_sleep) for _ in range(3)]
    assert snapshot(world) == {
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
    (product,) = world.sc.products.values()
    assert {"Key": "sagemaker:studio-visibility", "Value": "true"} in product["Tags"]
    (constraint,) = world.sc.constraints.values()
    role = json.loads(constraint["Parameters"])["RoleArn"]
    assert role == f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole"


def test_the_asset_bucket_is_encrypted_private_and_holds_the_template_and_seeds(
    world: World, template: Path
) -> None:
    result = register(world.aws, options(template), sleep=no_sleep)
    s3 = world.aws.client("s3")
    bucket = f"sagemaker-mlops-assets-{ACCOUNT}-{REGION}"
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


def test_the_asset_bucket_takes_tls_only_and_project_access_logs(world: World, template: Path) -> None:
    first = register(world.aws, options(template), sleep=no_sleep)
    bucket = f"sagemaker-mlops-assets-{ACCOUNT}-{REGION}"
    policy = json.loads(world.aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    deny = by_sid["DenyInsecureTransport"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    logs = by_sid["AllowProjectBucketAccessLogs"]
    assert logs["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert logs["Resource"] == [f"arn:aws:s3:::{bucket}/access-logs/*"]
    assert logs["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert "policy set" in first.actions[0]["action"]
    again = register(world.aws, options(template), sleep=no_sleep)
    assert "policy up to date" in again.actions[0]["action"]


def test_a_changed_template_adds_one_version_and_deprecates_the_old(world: World, template: Path) -> None:
    first = register(world.aws, options(template), sleep=no_sleep)
    template.write_text(TEMPLATE.format(version=2))
    second = register(world.aws, options(template), sleep=no_sleep)
    third = register(world.aws, options(template), sleep=no_sleep)
    assert second.artifact_id != first.artifact_id
    assert third.artifact_id == second.artifact_id
    (artifacts,) = world.sc.artifacts.values()
    assert [(a["Name"], a["Guidance"]) for a in artifacts] == [("v1", "DEPRECATED"), ("v2", "DEFAULT")]


@pytest.mark.parametrize("failed_after", servicecatalog.STEPS)
def test_a_failure_after_each_step_then_a_rerun_duplicates_nothing(
    world: World, template: Path, failed_after: str
) -> None:
    def explode(step: str) -> None:
        if step == failed_after:
            raise RuntimeError(f"injected failure after {step}")

    with pytest.raises(RuntimeError, match="injected"):
        register(world.aws, options(template), after_step=explode, sleep=no_sleep)
    register(world.aws, options(template), sleep=no_sleep)
    register(world.aws, options(template), sleep=no_sleep)
    assert snapshot(world) == {
        "portfolios": 1,
        "products": 1,
        "versions": 1,
        "links": 1,
        "constraints": 1,
        "principals": 1,
    }


def test_the_launch_constraint_is_retried_while_iam_propagates(world: World, template: Path) -> None:
    from sm_fakes import FakeError

    world.sc.fail_next["CreateConstraint"] = FakeError("InvalidParametersException", "role cannot be assumed")
    register(world.aws, options(template), sleep=no_sleep)
    assert world.sc.calls.count("CreateConstraint") == 2
    assert len(world.sc.constraints) == 1


def test_dry_run_changes_nothing(world: World, template: Path) -> None:
    result = register(world.aws, options(template, dry_run=True), sleep=no_sleep)
    assert snapshot(world) == {
        "portfolios": 0,
        "products": 0,
        "versions": 0,
        "links": 0,
        "constraints": 0,
        "principals": 0,
    }
    assert world.aws.client("s3").list_buckets()["Buckets"] == []
    assert all(a["action"].startswith("would") or "would" in a["action"] for a in result.actions)


def test_studio_roles_are_discovered_from_the_domains(world: World, template: Path) -> None:
    # moto answers create_domain; its DefaultUserSettings carry the execution role Studio users run as
    world.aws.client("sagemaker").create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": STUDIO_ROLE},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )
    register(world.aws, RegisterOptions(template_file=template), sleep=no_sleep)
    assert list(world.sc.principals.values()) == [[STUDIO_ROLE]]


def test_no_studio_role_is_a_precondition_error(world: World, template: Path) -> None:
    with pytest.raises(NotFound, match="--studio-role-arn"):
        register(world.aws, RegisterOptions(template_file=template), sleep=no_sleep)
    assert world.sc.calls == []


def test_deregister_undoes_register_and_refuses_while_a_project_uses_it(world: World, template: Path) -> None:
    result = register(world.aws, options(template), sleep=no_sleep)
    world.projects.add("in-use", "p-aaaaaaaaaaaa", product_id=str(result.product_id))
    with pytest.raises(NotFound, match="in-use"):
        servicecatalog.deregister(world.aws, options(template))
    rows = servicecatalog.deregister(world.aws, options(template), force=True)
    assert snapshot(world)["products"] == 0 and snapshot(world)["portfolios"] == 0
    assert any(r["resource"].startswith("portfolio") for r in rows)


def test_bootstrap_then_register_uses_the_created_launch_role(world: World, template: Path) -> None:
    rows = ensure_roles(world.aws, "service-catalog")
    assert {r["action"] for r in rows} == {"created"}
    again = ensure_roles(world.aws, "service-catalog")
    assert {r["action"] for r in again} == {"exists, unchanged"}
    iam = world.aws.client("iam")
    launch = iam.get_role(RoleName="AmazonSageMakerServiceCatalogProductsLaunchRole")["Role"]
    trust = launch["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == ["servicecatalog.amazonaws.com"]
    register(world.aws, options(template), sleep=no_sleep)
    (constraint,) = world.sc.constraints.values()
    assert json.loads(constraint["Parameters"])["RoleArn"] == launch["Arn"]


def test_a_template_naming_other_seed_zips_is_refused_before_anything_is_made(
    world: World, template: Path
) -> None:
    template.write_text(
        TEMPLATE.format(version=1) + "# SeedCodeKey: seedcode/modelbuild-0000000000000000.zip\n"
    )
    with pytest.raises(CommandError, match="make templates"):
        register(world.aws, options(template), sleep=no_sleep)
    assert world.sc.calls == [] and world.aws.client("s3").list_buckets()["Buckets"] == []
