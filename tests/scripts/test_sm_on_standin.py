"""The commands against the in-process stand-in (moto + its layer): real provisioning, stacks, deletions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from policy_eval import matching
from sm_fakes import no_sleep

from generator.policies import asset_bucket_policy
from scripts import cleanup, iam_roles, projects, servicecatalog
from scripts.cli import main
from scripts.common import Aws, BadInput, CommandError, Waiter
from scripts.iam_roles import ensure_roles
from scripts.projects import Names, RepoOptions
from scripts.servicecatalog import RegisterOptions, register
from seeding import assets

STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-test"


def fast() -> Waiter:
    return Waiter("the project", timeout=120, interval=0.3, max_interval=1.0)


@pytest.fixture
def aws(standin_env: dict[str, str]) -> Aws:
    """The session `sm-mlops` makes from the stand-in's environment; the Studio roles exist."""
    aws = Aws()
    ensure_roles(aws, "service-catalog")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    aws.client("iam").create_role(RoleName=STUDIO_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    return aws


def studio_role(aws: Aws) -> str:
    return f"arn:aws:iam::{aws.account}:role/{STUDIO_ROLE_NAME}"


def count(aws: Aws) -> dict[str, int]:
    sc = aws.client("servicecatalog")
    portfolios = sc.list_portfolios()["PortfolioDetails"]
    products = sc.search_products_as_admin()["ProductViewDetails"]
    versions = sum(
        len(
            sc.list_provisioning_artifacts(ProductId=p["ProductViewSummary"]["ProductId"])[
                "ProvisioningArtifactDetails"
            ]
        )
        for p in products
    )
    constraints = sum(
        len(sc.list_constraints_for_portfolio(PortfolioId=p["Id"])["ConstraintDetails"]) for p in portfolios
    )
    principals = sum(
        len(sc.list_principals_for_portfolio(PortfolioId=p["Id"])["Principals"]) for p in portfolios
    )
    return {
        "portfolios": len(portfolios),
        "products": len(products),
        "versions": versions,
        "constraints": constraints,
        "principals": principals,
    }


ONE_OF_EACH = {"portfolios": 1, "products": 1, "versions": 1, "constraints": 1, "principals": 1}


def test_register_three_times_on_the_standin(aws: Aws, v1: Path) -> None:
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    ids = {(r.portfolio_id, r.product_id, r.artifact_id) for r in (register(aws, options) for _ in range(3))}
    assert len(ids) == 1
    assert count(aws) == ONE_OF_EACH
    (product_id,) = {i[1] for i in ids}
    tags = aws.client("servicecatalog").describe_product_as_admin(Id=product_id)["Tags"]
    assert {"Key": "sagemaker:studio-visibility", "Value": "true"} in tags


def test_a_failure_after_each_step_then_a_rerun_then_deregister_on_the_standin(aws: Aws, v1: Path) -> None:
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    for failed_after in servicecatalog.STEPS:

        def explode(step: str, failed_after: str = failed_after) -> None:
            if step == failed_after:
                raise RuntimeError(f"injected after {step}")

        with pytest.raises(RuntimeError):
            register(aws, options, after_step=explode, sleep=no_sleep)
        register(aws, options, sleep=no_sleep)
        assert count(aws) == ONE_OF_EACH, f"after a failure following {failed_after}"
        servicecatalog.deregister(aws, options)
        assert count(aws) == dict.fromkeys(ONE_OF_EACH, 0), f"deregister after {failed_after}"


def create(aws: Aws, product_id: str, name: str, connection: str) -> dict[str, Any]:
    repos = RepoOptions(
        build_repo=f"acme/{name}-build",
        deploy_repo=f"acme/{name}-deploy",
        connection_arn=connection,
        seed_build=False,
        seed_deploy=False,
    )
    return projects.create_project(aws, name, product_id, repos, {}, waiter=fast())


@pytest.fixture
def connection(aws: Aws) -> str:
    arn = aws.client("codestar-connections").create_connection(
        ProviderType="GitHub", ConnectionName="test", Tags=[{"Key": "sagemaker", "Value": "true"}]
    )["ConnectionArn"]
    return str(arn)


def project_resources(aws: Aws, names: Names) -> dict[str, Any]:
    sagemaker, codepipeline = aws.client("sagemaker"), aws.client("codepipeline")
    return {
        "pipelines": sorted(
            p["name"] for p in codepipeline.list_pipelines()["pipelines"] if names.id in p["name"]
        ),
        "code repositories": sorted(
            r["CodeRepositoryName"]
            for r in sagemaker.list_code_repositories()["CodeRepositorySummaryList"]
            if names.id in r["CodeRepositoryName"]
        ),
        "bucket": [
            b["Name"] for b in aws.client("s3").list_buckets()["Buckets"] if b["Name"] == names.bucket
        ],
    }


def test_create_refuses_bad_parameters_before_any_create_call(aws: Aws, v1: Path, connection: str) -> None:
    product = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).product_id
    assert product
    bad = RepoOptions(build_repo="no-owner", deploy_repo="acme/d", connection_arn=connection)
    with pytest.raises(BadInput, match="ModelBuildCodeRepositoryFullname"):
        projects.create_project(aws, "abalone", product, bad, {})
    assert aws.client("sagemaker").list_projects()["ProjectSummaryList"] == []


def test_update_to_a_new_template_version_keeps_the_resources(aws: Aws, v1: Path, connection: str) -> None:
    options = RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])
    product = register(aws, options).product_id
    assert product
    created = create(aws, product, "abalone", connection)
    assert created["status"] == "CreateCompleted"
    names = Names("abalone", created["id"])
    before = project_resources(aws, names)
    assert len(before["pipelines"]) == 2 and len(before["code repositories"]) == 2 and before["bucket"]
    v1.write_text(v1.read_text() + "\n# version 2\n")
    second = register(aws, options)
    result = projects.update_project(aws, "abalone", {}, waiter=fast())
    assert result["status"] == "UpdateCompleted" and result["provisioning_artifact_id"] == second.artifact_id
    assert project_resources(aws, names) == before


def test_delete_removes_exactly_one_project_beside_another(aws: Aws, v1: Path, connection: str) -> None:
    product = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).product_id
    assert product
    mine = Names("abalone", create(aws, product, "abalone", connection)["id"])
    other = Names("other", create(aws, product, "other", connection)["id"])
    sagemaker = aws.client("sagemaker")
    for names in (mine, other):  # what the seed's pipeline registers (moto's model registry)
        sagemaker.create_model_package_group(ModelPackageGroupName=names.model_package_group)
        sagemaker.create_model_package(
            ModelPackageGroupName=names.model_package_group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    kinds_before = {n.name: {r["kind"] for r in cleanup.plan_delete(aws, n)} for n in (mine, other)}
    assert kinds_before["abalone"] == {"project", "model version", "model package group", "bucket"}
    other_resources = project_resources(aws, other)

    cleanup.delete_project(aws, "abalone", waiter_timeout=120)

    assert cleanup.plan_delete(aws, mine) == []
    assert project_resources(aws, mine) == {"pipelines": [], "code repositories": [], "bucket": []}
    assert {r["kind"] for r in cleanup.plan_delete(aws, other)} == kinds_before["other"]
    assert project_resources(aws, other) == other_resources


@pytest.mark.slow
def test_a_failed_creation_names_the_failing_resource_and_its_reason(
    aws: Aws, v1: Path, connection: str
) -> None:
    """Sample Code on, but the repository does not exist at the Git provider: the seed check-in fails."""
    product = register(aws, RegisterOptions(template_file=v1, studio_role_arns=[studio_role(aws)])).product_id
    assert product
    repos = RepoOptions(
        build_repo="acme/missing",
        deploy_repo="acme/missing-too",
        connection_arn=connection,
        seed_deploy=False,
    )
    with pytest.raises(CommandError) as caught:
        projects.create_project(
            aws, "abalone", product, repos, {}, waiter=Waiter("the project", timeout=300, interval=0.5)
        )
    message = str(caught.value)
    assert "CreateFailed" in message
    assert "SageMakerModelBuildSeedCodeCheckinProjectTriggerLambdaInvoker" in message


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


def fail_once(client: Any, operation: str) -> list[str]:
    """`client` answers its next `operation` call with AWS's InternalError; returns the calls it failed."""
    failed: list[str] = []

    def before_call(model: Any, **kwargs: Any) -> Any:
        if model.name != operation or failed:
            return None
        failed.append(model.name)
        error = {"Error": {"Code": "InternalError", "Message": "injected"}, "ResponseMetadata": {}}
        return AWSResponse("https://injected", 500, {}, None), error

    client.meta.events.register(f"before-call.{client.meta.service_model.service_name}", before_call)
    return failed


def bucket_settings(s3: Any, bucket: str) -> dict[str, Any]:
    """What AWS answers for each of the asset bucket's settings (None: not set)."""

    def read(call: Any, *path: str) -> Any:
        try:
            answer = call(Bucket=bucket)
        except ClientError:
            return None
        for key in path:
            answer = answer.get(key, {}) if isinstance(answer, dict) else answer
        return answer

    return {
        "encryption": read(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration", "Rules"),
        "public access block": read(s3.get_public_access_block, "PublicAccessBlockConfiguration"),
        "ownership": read(s3.get_bucket_ownership_controls, "OwnershipControls", "Rules"),
        "versioning": read(s3.get_bucket_versioning, "Status"),
        "policy": read(s3.get_bucket_policy, "Policy"),
    }


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


def test_the_asset_bucket_policy_denies_project_roles_and_allows_its_admins(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    """Evaluated with `policy_eval` (the stand-in's S3 ignores principals): the project roles' own policies
    allow writing to `sagemaker-*`; the bucket policy's explicit deny is what stops them."""
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
        identity = iam_roles.permissions("aws", "123456789012", family, kind)
        allowed = matching(identity, "Allow", "s3:PutObject", f"arn:aws:s3:::{bucket}/{keys[0]}", tls)
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
