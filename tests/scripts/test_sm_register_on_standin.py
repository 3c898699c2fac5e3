"""`sm-mlops register` on the in-process stand-in: versions, bucket settings, asset bytes, asset policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from standin_world import bucket_settings, fail_once, no_sleep, studio_role

from generator.policies import asset_bucket_policy
from scripts import iam_roles, projects, servicecatalog
from scripts.cli import main
from scripts.common import Aws
from scripts.servicecatalog import RegisterOptions, register
from seeding import assets
from standin.iam import policy_evaluation


def sm(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """`sm-mlops --output json ARGS` as a user runs it; exit 0 expected."""
    code = main(["--output", "json", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return dict(json.loads(captured.out))


def versions(aws: Aws, product_id: str) -> dict[str, tuple[str, bool]]:
    """Each version's (Guidance, Active), as DescribeProvisioningArtifact answers."""
    sc = aws.client("servicecatalog")
    out = {}
    for artifact in sc.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]:
        detail = sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=artifact["Id"]
        )
        out[artifact["Id"]] = (
            detail["ProvisioningArtifactDetail"]["Guidance"],
            detail["ProvisioningArtifactDetail"]["Active"],
        )
    return out


def test_registering_v1_v2_then_v1_again_makes_v1_the_one_active_version(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--product-name", "rollback test", "--studio-role-arn", studio_role(aws)]
    first = sm(capsys, "register", "--template-variant", "v1", *common)
    second = sm(capsys, "register", "--template-variant", "v2", *common)
    back = sm(capsys, "register", "--template-variant", "v1", *common)
    product = back["product_id"]
    assert first["product_id"] == second["product_id"] == product
    assert back["provisioning_artifact_id"] == first["provisioning_artifact_id"]  # the artifact is reused
    states = versions(aws, product)
    assert states[back["provisioning_artifact_id"]] == ("DEFAULT", True)
    assert {s for a, s in states.items() if a != back["provisioning_artifact_id"]} == {("DEPRECATED", True)}
    sc = aws.client("servicecatalog")
    assert projects.active_artifact(sc, product)["Id"] == back["provisioning_artifact_id"]
    again = sm(capsys, "register", "--template-variant", "v1", *common)
    assert again["provisioning_artifact_id"] == back["provisioning_artifact_id"]
    assert versions(aws, product) == states
    (version_step,) = [a["action"] for a in again["actions"] if a["step"] == "version"]
    assert "deprecated" not in version_step and "made" not in version_step


def test_a_register_that_failed_configuring_the_bucket_is_finished_by_the_next(aws: Aws, v1: Path) -> None:
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    s3 = aws.client("s3")
    bucket = servicecatalog.asset_bucket_name(aws.account, aws.region)
    failed = fail_once(s3, "PutBucketEncryption")
    with pytest.raises(ClientError, match="InternalError"):
        register(aws, options, sleep=no_sleep)
    assert failed == ["PutBucketEncryption"]
    half_done = bucket_settings(s3, bucket)
    assert half_done["encryption"] is None  # the failure left the bucket as AWS would: made, not configured

    again = register(aws, options, sleep=no_sleep)
    settings = bucket_settings(s3, bucket)
    assert [
        r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in settings["encryption"] or []
    ] == ["AES256"]
    assert settings["public access block"] and all(settings["public access block"].values())
    assert settings["ownership"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert settings["versioning"] == "Enabled"
    assert settings["policy"]
    assert "repaired" in again.actions[0]["action"]
    third = register(aws, options, sleep=no_sleep)
    assert bucket_settings(s3, bucket) == settings and "repaired" not in third.actions[0]["action"]


def test_a_launch_constraint_naming_another_role_is_replaced(aws: Aws, v1: Path) -> None:
    iam = aws.client("iam")
    launch = iam.get_role(RoleName="AmazonSageMakerServiceCatalogProductsLaunchRole")["Role"]
    other = iam.create_role(
        RoleName="sagemaker-other-launch-role",
        AssumeRolePolicyDocument=json.dumps(launch["AssumeRolePolicyDocument"]),
    )["Role"]["Arn"]
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    first = register(
        aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)], launch_role_arn=other)
    )
    second = register(aws, options, sleep=no_sleep)
    sc = aws.client("servicecatalog")
    (constraint,) = sc.list_constraints_for_portfolio(PortfolioId=first.portfolio_id)["ConstraintDetails"]
    named = sc.describe_constraint(Id=constraint["ConstraintId"])["ConstraintParameters"]
    assert json.loads(named)["RoleArn"] == launch["Arn"]
    assert second.portfolio_id == first.portfolio_id


def stored(aws: Aws, key: str) -> bytes:
    bucket = servicecatalog.asset_bucket_name(aws.account, aws.region)
    return bytes(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_register_repairs_asset_bytes_that_someone_replaced(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["register", "--studio-role-arn", studio_role(aws)]
    first = sm(capsys, *args)
    bootstrap = assets.build_assets()["bootstrap"]
    template_key = first["template_url"].split(".amazonaws.com/", 1)[1]
    template = stored(aws, template_key)
    bucket = servicecatalog.asset_bucket_name(aws.account, aws.region)
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key=bootstrap.key, Body=b"echo pwned > checkin.py")
    s3.put_object(Bucket=bucket, Key=template_key, Body=template + b"\n# changed\n")

    again = sm(capsys, *args)
    assert stored(aws, bootstrap.key) == bootstrap.data
    assert stored(aws, template_key) == template
    (assets_step,) = [a["action"] for a in again["actions"] if a["step"] == "assets"]
    assert assets_step.count("repaired (SHA-256 differed)") == 2
    third = sm(capsys, *args)
    assert "repaired" not in third["actions"][0]["action"]


PROJECT_ROLES = [
    (family, kind, iam_roles.role_arn("aws", "123456789012", family, kind))
    for family in iam_roles.FAMILY_PREFIX
    for kind in ("CodeBuild", "Execution", "Use", "Launch", "CodePipeline", "CloudFormation")
]
CI_ROLE = "arn:aws:iam::123456789012:role/ci/sagemaker-assets-ci"


def matching(
    policy: dict[str, Any], effect: str, action: str, resource: str, context: dict[str, str]
) -> list:
    """The statements of `effect` that apply to a request by `aws:PrincipalArn` (or by the AWS service
    `context["service"]`), with the other context keys."""
    who = (
        {"Service": context["service"]}
        if "service" in context
        else {"AWS": context.get("aws:PrincipalArn", "")}
    )
    keys = {k: [v] for k, v in context.items() if k != "service"}
    request = policy_evaluation.Request(action, resource, keys, who)
    return policy_evaluation.matching(policy, effect, request)


def test_the_asset_bucket_policy_denies_project_roles_and_allows_its_admins(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """Evaluated with the stand-in's IAM evaluation (its S3 ignores principals): the project roles' own
    policies allow writing to `sagemaker-*`; the bucket policy's explicit deny is what stops them."""
    registered = sm(capsys, "register", "--studio-role-arn", studio_role(aws), "--asset-admin", CI_ROLE)
    bucket = servicecatalog.asset_bucket_name(aws.account, aws.region)
    policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    template_key = registered["template_url"].split(".amazonaws.com/", 1)[1]
    keys = [a.key for a in assets.build_assets().values()] + [template_key]
    object_writes = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    bucket_writes = ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration"]
    requests = [(a, f"arn:aws:s3:::{bucket}/{k}") for a in object_writes for k in keys]
    requests += [(a, f"arn:aws:s3:::{bucket}") for a in bucket_writes]
    tls = {"aws:SecureTransport": "true"}

    def denied(principal: str, action: str, resource: str) -> bool:
        return bool(matching(policy, "Deny", action, resource, {"aws:PrincipalArn": principal, **tls}))

    for family, kind, role in PROJECT_ROLES:
        for action, resource in requests:
            assert denied(role, action, resource), (role, action, resource)
        allowed = [
            found
            for identity in iam_roles.policy_documents(aws, family, kind)
            if (found := matching(identity, "Allow", "s3:PutObject", f"arn:aws:s3:::{bucket}/{keys[0]}", tls))
        ]
        if kind in ("CodeBuild", "Execution", "Use"):
            assert allowed, f"{role}: the identity policy was expected to allow the write the deny stops"
    for admin in (CI_ROLE, aws.caller_arn):
        assert not [r for r in requests if denied(admin, *r)], admin
    # what else uses the bucket keeps working: S3 log delivery, and everyone reading the assets
    logs = {"service": "logging.s3.amazonaws.com", **tls}
    assert not matching(policy, "Deny", "s3:PutObject", f"arn:aws:s3:::{bucket}/access-logs/p-1/x", logs)
    assert not denied(PROJECT_ROLES[0][2], "s3:GetObject", f"arn:aws:s3:::{bucket}/{keys[0]}")


@pytest.mark.parametrize(
    ("case", "caller", "expected"),
    [
        (
            "assumed role: the role with or without a path",
            "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com",
            ["arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/*/Admin"],
        ),
        ("user", "arn:aws:iam::123456789012:user/ops/alice", ["arn:aws:iam::123456789012:user/ops/alice"]),
        ("root", "arn:aws:iam::123456789012:root", ["arn:aws:iam::123456789012:root"]),
    ],
)
def test_the_caller_becomes_principal_arn_values(case: str, caller: str, expected: list[str]) -> None:
    assert servicecatalog.principal_arns(caller) == expected
    session = "arn:aws:sts::123456789012:assumed-role/Admin/alice"
    path_role = "arn:aws:iam::123456789012:role/team/Admin"
    if caller.endswith("alice@example.com"):  # the session's role, wherever its path, and no other role
        policy = json.loads(asset_bucket_policy("b", "123456789012", "aws", expected).to_json())
        for principal, refused in ((path_role, False), ("arn:aws:iam::123456789012:role/NotAdmin", True)):
            found = matching(
                policy,
                "Deny",
                "s3:PutObject",
                "arn:aws:s3:::b/seeding/x.zip",
                {"aws:PrincipalArn": principal},
            )
            assert bool(found) is refused, (principal, session)


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:sts::123456789012:assumed-role/Admin/alice",
        "arn:aws:iam::123456789012:role/*",
        "not-an-arn",
        "arn:aws:s3:::sagemaker-bucket",
    ],
)
def test_a_bad_asset_admin_is_refused_before_anything_is_made(
    aws: Aws, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code = main(["register", "--studio-role-arn", studio_role(aws), "--asset-admin", bad])
    err = capsys.readouterr().err
    assert code == 2 and "--asset-admin" in err and "Fix:" in err and bad in err
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("servicecatalog").list_portfolios()["PortfolioDetails"] == []
