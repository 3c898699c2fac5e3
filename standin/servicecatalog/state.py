"""Service Catalog's state that moto does not keep, per account and region: provisioning artifacts, product
and portfolio associations, launch paths, constraints, principals, provisioned products and their
records; and the look-ups every part of the service shares (products and portfolios are moto's own)."""

from __future__ import annotations

import random
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from standin.dispatch import AwsError, Context, present
from standin.iam.identity import caller_arns, is_principal

SERVICE = "servicecatalog"


STORE = "servicecatalog"


_ALNUM = string.ascii_lowercase + string.digits


def new_id(prefix: str, length: int = 13) -> str:
    """An id in Service Catalog's style, e.g. ``pa-4abcdefghijkl``."""
    return prefix + "".join(random.choice(_ALNUM) for _ in range(length))


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Artifact:
    id: str
    product_id: str
    name: str
    description: str
    type: str
    template_url: str
    created: datetime = field(default_factory=utcnow)
    active: bool = True
    guidance: str = "DEFAULT"

    def detail(self) -> dict:
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "Type": self.type,
            "CreatedTime": self.created,
            "Active": self.active,
            "Guidance": self.guidance,
        }

    def summary(self) -> dict:
        """What a product's own description lists of each version (DescribeProductAsAdmin and the like)."""
        detail = self.detail()
        return {key: detail[key] for key in ("Id", "Name", "Description", "CreatedTime")}


@dataclass
class Constraint:
    id: str
    type: str
    description: str
    parameters: str
    product_id: str
    portfolio_id: str
    owner: str

    def detail(self) -> dict:
        return {
            "ConstraintId": self.id,
            "Type": self.type,
            "Description": self.description,
            "Owner": self.owner,
            "ProductId": self.product_id,
            "PortfolioId": self.portfolio_id,
        }


@dataclass
class Record:
    id: str
    record_type: str
    provisioned_product: ProvisionedProduct
    artifact_id: str
    path_id: str | None
    stack_id: str | None
    created: datetime = field(default_factory=utcnow)
    updated: datetime = field(default_factory=utcnow)
    status: str = "IN_PROGRESS"
    errors: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    final: bool = False

    def detail(self) -> dict:
        pp = self.provisioned_product
        return {
            "RecordId": self.id,
            "ProvisionedProductName": pp.name,
            "Status": self.status,
            "CreatedTime": self.created,
            "UpdatedTime": self.updated,
            "ProvisionedProductType": "CFN_STACK",
            "RecordType": self.record_type,
            "ProvisionedProductId": pp.id,
            "ProductId": pp.product_id,
            "ProvisioningArtifactId": self.artifact_id,
            "PathId": self.path_id or "",
            "RecordErrors": self.errors,
            "RecordTags": [{"Key": k, "Value": v} for k, v in pp.tags.items()],
            **({"LaunchRoleArn": pp.launch_role} if pp.launch_role else {}),
        }


@dataclass
class ProvisionedProduct:
    id: str
    name: str
    arn: str
    product_id: str
    artifact_id: str
    path_id: str | None
    stack_name: str
    launch_role: str | None
    tags: dict[str, str]
    parameters: dict[str, str]
    idempotency_token: str
    created: datetime = field(default_factory=utcnow)
    status: str = "UNDER_CHANGE"
    status_message: str = ""
    stack_id: str | None = None
    # Who provisioned it, as STS names the caller (`UserArn`; `servicecatalog:userLevel` compares it).
    user_arn: str = ""
    records: list[Record] = field(default_factory=list)
    last_success: str | None = None
    terminated: bool = False

    def detail(self) -> dict:
        last = self.records[-1]
        provisioning = [r for r in self.records if r.record_type != "TERMINATE_PROVISIONED_PRODUCT"]
        return {
            "Name": self.name,
            "Arn": self.arn,
            "Type": "CFN_STACK",
            "Id": self.id,
            "Status": self.status,
            "StatusMessage": self.status_message,
            "CreatedTime": self.created,
            "IdempotencyToken": self.idempotency_token,
            "LastRecordId": last.id,
            "LastProvisioningRecordId": provisioning[-1].id if provisioning else last.id,
            "ProductId": self.product_id,
            "ProvisioningArtifactId": self.artifact_id,
            **present(LastSuccessfulProvisioningRecordId=self.last_success, LaunchRoleArn=self.launch_role),
        }


class CatalogStore:
    """Service Catalog state of one account and region that moto does not keep."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.artifacts: dict[str, list[Artifact]] = {}
        self.associations: dict[str, list[str]] = {}  # product id -> portfolio ids, in association order
        self.launch_paths: dict[str, str] = {}  # portfolio id -> launch path id
        self.constraints: dict[str, Constraint] = {}
        self.principals: dict[str, list[dict]] = {}
        self.provisioned: dict[str, ProvisionedProduct] = {}
        self.records: dict[str, Record] = {}
        self.tokens: dict[tuple[str, str], Any] = {}


def store(ctx: Context) -> CatalogStore:
    return ctx.store(STORE, CatalogStore)


def moto_backend(ctx: Context) -> Any:
    return ctx.backend(SERVICE)


def require(params: dict, *names: str) -> None:
    for name in names:
        if params.get(name) in (None, "", [], {}):
            raise AwsError("InvalidParametersException", f"{name} is required but was not given.")


def find_product(ctx: Context, product_id: str | None, name: str | None = None) -> Any:
    products = moto_backend(ctx).products
    if product_id:
        product = products.get(product_id)
        if product is None:
            raise AwsError("ResourceNotFoundException", f"Product {product_id} not found.")
        return product
    if name:
        for product in products.values():
            if product.name == name:
                return product
        raise AwsError("ResourceNotFoundException", f"Product with name {name} not found.")
    raise AwsError("InvalidParametersException", "ProductId (or ProductName) is required but was not given.")


def find_product_as_end_user(ctx: Context, product_id: str | None, name: str | None = None) -> Any:
    """The product, if the caller has a launch path to it; to anyone else it does not exist."""
    product = find_product(ctx, product_id, name)
    if not launch_paths(ctx, product.id):
        raise AwsError("ResourceNotFoundException", f"Product {product.id} not found.")
    return product


def find_portfolio(ctx: Context, portfolio_id: str | None) -> Any:
    if not portfolio_id:
        raise AwsError("InvalidParametersException", "PortfolioId is required but was not given.")
    portfolio = moto_backend(ctx).portfolios.get(portfolio_id)
    if portfolio is None:
        raise AwsError("ResourceNotFoundException", f"Portfolio {portfolio_id} not found.")
    return portfolio


def find_artifact(
    ctx: Context, product_id: str, artifact_id: str | None, name: str | None = None
) -> Artifact:
    artifacts = store(ctx).artifacts.get(product_id, [])
    for artifact in artifacts:
        if (artifact_id and artifact.id == artifact_id) or (
            not artifact_id and name and artifact.name == name
        ):
            return artifact
    wanted = artifact_id or name
    if not wanted:
        raise AwsError("InvalidParametersException", "ProvisioningArtifactId is required but was not given.")
    raise AwsError(
        "ResourceNotFoundException", f"Provisioning artifact {wanted} not found for product {product_id}."
    )


def idempotent(ctx: Context, operation_name: str, token: str | None) -> Any:
    return store(ctx).tokens.get((operation_name, token)) if token else None


def paginate(
    items: list, params: dict, size_key: str = "PageSize", token_key: str = "PageToken"
) -> tuple[list, dict]:
    size = int(params.get(size_key) or 20)
    start = int(params.get(token_key) or 0)
    extra = {"NextPageToken": str(start + size)} if start + size < len(items) else {}
    return items[start : start + size], extra


def launch_paths(ctx: Context, product_id: str) -> list[dict]:
    """The product's launch paths the caller may use: one per portfolio that holds the product and has the
    caller (its role or user, as IAM knows it from the request's credentials) among its principals."""
    catalog = store(ctx)
    arns = caller_arns(ctx)
    paths = []
    for portfolio_id in catalog.associations.get(product_id, []):
        portfolio = moto_backend(ctx).portfolios.get(portfolio_id)
        if portfolio is None:
            continue
        if not any(is_principal(p, arns) for p in catalog.principals.get(portfolio_id, [])):
            continue
        constraints = [
            {"Type": c.type, "Description": c.description}
            for c in catalog.constraints.values()
            if c.portfolio_id == portfolio_id and c.product_id == product_id
        ]
        paths.append(
            {
                "Id": catalog.launch_paths[portfolio_id],
                "Name": portfolio.display_name,
                "ConstraintSummaries": constraints,
                "Tags": portfolio.tags or [],
                "portfolio_id": portfolio_id,
            }
        )
    return paths
