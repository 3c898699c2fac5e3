"""What the scripts' tests share on the stand-in: the Studio role, a fast waiter, a project without seed code,
what Service Catalog holds, and a recorder of the calls `sm-mlops` makes (with one fault to inject)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from demo.account import as_role, create_studio_role
from scripts import projects
from scripts.common import Aws, Waiter
from scripts.iam_roles import ensure_roles
from scripts.projects import Names, RepoOptions

STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-test"


def fast() -> Waiter:
    return Waiter("the project", timeout=120, interval=0.3, max_interval=1.0)


def prepare(aws: Aws) -> Aws:
    """The service roles `bootstrap` makes and a Studio execution role, as an admin's account has them."""
    ensure_roles(aws, "service-catalog")
    create_studio_role(aws.client("iam"), aws.account, STUDIO_ROLE_NAME)
    return aws


def studio_role(aws: Aws) -> str:
    return f"arn:aws:iam::{aws.account}:role/{STUDIO_ROLE_NAME}"


def new_connection(aws: Aws) -> str:
    arn = aws.client("codestar-connections").create_connection(
        ProviderType="GitHub", ConnectionName="test", Tags=[{"Key": "sagemaker", "Value": "true"}]
    )["ConnectionArn"]
    return str(arn)


def repos(name: str, connection: str) -> RepoOptions:
    return RepoOptions(
        build_repo=f"acme/{name}-build",
        deploy_repo=f"acme/{name}-deploy",
        connection_arn=connection,
        seed_build=False,
        seed_deploy=False,
    )


def scientist(aws: Aws) -> Aws:
    """The admin's `aws` working as the Studio execution role (a principal of the portfolio), as a data
    scientist in Studio does."""
    return as_role(aws, studio_role(aws))


def create(aws: Aws, product_id: str, name: str, connection: str) -> dict[str, Any]:
    """`project create` as the Studio execution role."""
    return projects.create_project(
        scientist(aws), name, product_id, repos(name, connection), {}, waiter=fast()
    )


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


def register_model_version(aws: Aws, names: Names) -> None:
    """What the seed's SageMaker pipeline registers: a group and a version pending approval."""
    sagemaker = aws.client("sagemaker")
    groups = sagemaker.list_model_package_groups(NameContains=names.model_package_group)
    if not groups["ModelPackageGroupSummaryList"]:
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


def no_sleep(seconds: float) -> None:
    """Stands for time.sleep where a test retries and must not wait."""


def record_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS call `sm-mlops`' `Aws` objects make from now on, as ``service.Operation`` in call order.

    The recorder sees a call before any fault injected afterwards with `fail_once` on the same client."""
    calls: list[str] = []
    original = Aws.client

    def client(self: Aws, service: str) -> Any:
        made = original(self, service)
        event = f"before-call.{made.meta.service_model.service_id.hyphenize()}"
        name = made.meta.service_model.service_name

        def record(model: Any, **_: Any) -> None:
            calls.append(f"{name}.{model.name}")

        made.meta.events.register(event, record, unique_id=f"record-calls-{id(calls)}")
        return made

    monkeypatch.setattr(Aws, "client", client)
    return calls


def fail_once(
    client: Any, operation: str, code: str = "InternalError", status: int = 500, message: str = "injected"
) -> list[str]:
    """`client` answers its next `operation` call with AWS's error ``code``; returns the calls it failed."""
    failed: list[str] = []

    def before_call(model: Any, **kwargs: Any) -> Any:
        if model.name != operation or failed:
            return None
        failed.append(model.name)
        error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}
        return AWSResponse("https://injected", status, {}, None), error

    client.meta.events.register(
        f"before-call.{client.meta.service_model.service_id.hyphenize()}", before_call
    )
    return failed


def catalog_counts(aws: Aws) -> dict[str, int]:
    """How many portfolios, products, versions, links, constraints and principals Service Catalog holds."""
    sc = aws.client("servicecatalog")
    portfolios = sc.list_portfolios()["PortfolioDetails"]
    products = [
        p["ProductViewSummary"]["ProductId"] for p in sc.search_products_as_admin()["ProductViewDetails"]
    ]

    def total(call: Any, key: str, **each: str) -> int:
        return len(call(**each)[key])

    return {
        "portfolios": len(portfolios),
        "products": len(products),
        "versions": sum(
            total(sc.list_provisioning_artifacts, "ProvisioningArtifactDetails", ProductId=p)
            for p in products
        ),
        "links": sum(
            total(sc.list_portfolios_for_product, "PortfolioDetails", ProductId=p) for p in products
        ),
        "constraints": sum(
            total(sc.list_constraints_for_portfolio, "ConstraintDetails", PortfolioId=p["Id"])
            for p in portfolios
        ),
        "principals": sum(
            total(sc.list_principals_for_portfolio, "Principals", PortfolioId=p["Id"]) for p in portfolios
        ),
    }
