"""Service Catalog: what registration and Studio need, on top of moto's portfolios and products.

moto keeps portfolios and products (and their tags); this module adds provisioning artifacts,
product/portfolio associations, constraints, principals, launch paths, and provisioning: a real
CloudFormation stack
``SC-<account>-<pp-id>`` made from the template the artifact's ``LoadTemplateFromURL`` points at (moto's S3),
its parameters checked first by the project's validator (CloudFormation's own rules, read from the template).
Records and provisioned products take their status from the stack, as Service Catalog does.
"""

from __future__ import annotations

import json
import random
import re
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlparse

import yaml
from moto.backends import get_backend

from generator.validation import check_parameters
from standin.dispatch import AwsError, Context, operation

SERVICE = "servicecatalog"
STORE = "servicecatalog"
PRODUCT_TYPES = ("CLOUD_FORMATION_TEMPLATE", "MARKETPLACE", "TERRAFORM_OPEN_SOURCE", "EXTERNAL")
GUIDANCES = ("DEFAULT", "DEPRECATED")
_ALNUM = string.ascii_lowercase + string.digits


def new_id(prefix: str, length: int = 13) -> str:
    """An id in Service Catalog's style, e.g. ``pa-4abcdefghijkl``."""
    return prefix + "".join(random.choice(_ALNUM) for _ in range(length))


def _now() -> datetime:
    return datetime.now(UTC)


# -- state ---------------------------------------------------------------------------------------------------


@dataclass
class Artifact:
    id: str
    product_id: str
    name: str
    description: str
    type: str
    template_url: str
    created: datetime = field(default_factory=_now)
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
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "CreatedTime": self.created,
        }


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
    created: datetime = field(default_factory=_now)
    updated: datetime = field(default_factory=_now)
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
    created: datetime = field(default_factory=_now)
    status: str = "UNDER_CHANGE"
    status_message: str = ""
    stack_id: str | None = None
    records: list[Record] = field(default_factory=list)
    last_success: str | None = None
    terminated: bool = False

    def detail(self) -> dict:
        last = self.records[-1]
        provisioning = [r for r in self.records if r.record_type != "TERMINATE_PROVISIONED_PRODUCT"]
        out = {
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
        }
        if self.last_success:
            out["LastSuccessfulProvisioningRecordId"] = self.last_success
        if self.launch_role:
            out["LaunchRoleArn"] = self.launch_role
        return out


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
        self.tokens: dict[str, Any] = {}


def store(ctx: Context) -> CatalogStore:
    return ctx.store(STORE, CatalogStore)


def _moto(ctx: Context) -> Any:
    return ctx.backend(SERVICE)


def _require(params: dict, *names: str) -> None:
    for name in names:
        if params.get(name) in (None, "", [], {}):
            raise AwsError("InvalidParametersException", f"{name} is required but was not given.")


def _product(ctx: Context, product_id: str | None, name: str | None = None) -> Any:
    products = _moto(ctx).products
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


def _portfolio(ctx: Context, portfolio_id: str | None) -> Any:
    if not portfolio_id:
        raise AwsError("InvalidParametersException", "PortfolioId is required but was not given.")
    portfolio = _moto(ctx).portfolios.get(portfolio_id)
    if portfolio is None:
        raise AwsError("ResourceNotFoundException", f"Portfolio {portfolio_id} not found.")
    return portfolio


def _artifact(ctx: Context, product_id: str, artifact_id: str | None, name: str | None = None) -> Artifact:
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


# -- templates in S3 -----------------------------------------------------------------------------------------

_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$"
)
_PATH_HOST = re.compile(r"^s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$")


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (``!Ref``, ``!Sub``, ``!GetAtt``) read as long forms."""


def _short_form(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict:
    name = "Ref" if tag == "!Ref" else f"Fn::{tag[1:]}"
    if isinstance(node, yaml.SequenceNode):
        value: Any = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)  # type: ignore[arg-type]
        if tag == "!GetAtt":
            value = str(value).split(".", 1)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _short_form)


def parse_template(body: str) -> dict:
    """A template (JSON or YAML, short forms allowed) as a dict."""
    body = body.strip()
    data = json.loads(body) if body.startswith("{") else yaml.load(body, Loader=_CfnLoader)  # noqa: S506
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ValueError("it is not a CloudFormation template (no Resources section)")
    return data


def template_location(url: str) -> tuple[str, str]:
    """(bucket, key) of an S3 https URL, virtual-host or path style."""
    parsed = urlparse(url or "")
    host = parsed.hostname or ""
    if parsed.scheme != "https" or not host:
        raise ValueError("it is not an https S3 URL")
    match = _VIRTUAL_HOST.match(host)
    if match and not _PATH_HOST.match(host):
        return match.group("bucket"), unquote(parsed.path.lstrip("/"))
    if _PATH_HOST.match(host):
        bucket, _, key = parsed.path.lstrip("/").partition("/")
        if bucket and key:
            return bucket, unquote(key)
    raise ValueError(
        "it is not an S3 object URL: use https://<bucket>.s3.<region>.amazonaws.com/<key> "
        "or https://s3.<region>.amazonaws.com/<bucket>/<key>"
    )


def load_template(ctx: Context, url: str) -> tuple[str, dict]:
    """Read and parse the template at ``url`` from moto's S3; InvalidParametersException naming the URL."""
    try:
        bucket, key = template_location(url)
    except ValueError as error:
        raise AwsError("InvalidParametersException", f"LoadTemplateFromURL '{url}': {error}.") from None
    s3 = get_backend("s3")[ctx.account_id]["aws"]
    try:
        body = s3.get_object(bucket, key).value.decode("utf-8")
    except Exception:  # noqa: BLE001 - moto raises several kinds for a missing bucket or key
        raise AwsError(
            "InvalidParametersException",
            f"Unable to download the template at LoadTemplateFromURL '{url}': no object s3://{bucket}/{key}. "
            "Upload the template first.",
        ) from None
    try:
        return body, parse_template(body)
    except (ValueError, yaml.YAMLError) as error:
        raise AwsError(
            "InvalidParametersException", f"The template at LoadTemplateFromURL '{url}' is not valid: {error}"
        ) from None


# -- products and provisioning artifacts ---------------------------------------------------------------------


def _new_artifact(ctx: Context, product_id: str, spec: dict | None) -> Artifact:
    spec = spec or {}
    info = spec.get("Info") or {}
    url = info.get("LoadTemplateFromURL")
    if not url:
        raise AwsError(
            "InvalidParametersException",
            "Info.LoadTemplateFromURL is required: the https URL of the template in S3.",
        )
    artifact_type = spec.get("Type") or "CLOUD_FORMATION_TEMPLATE"
    if not spec.get("DisableTemplateValidation"):
        load_template(ctx, url)
    existing = store(ctx).artifacts.get(product_id, [])
    return Artifact(
        id=new_id("pa-"),
        product_id=product_id,
        name=spec.get("Name") or f"v{len(existing) + 1}",
        description=spec.get("Description") or "",
        type=artifact_type,
        template_url=url,
    )


def _product_view_detail(product: Any) -> dict:
    return {
        "ProductViewSummary": product.to_dict(),
        "Status": "CREATED",
        "ProductARN": product.arn,
        "CreatedTime": product.created_time,
    }


def _idempotent(ctx: Context, operation_name: str, token: str | None) -> Any:
    return store(ctx).tokens.get((operation_name, token)) if token else None


@operation(SERVICE, "CreateProduct")
def create_product(ctx: Context, params: dict) -> dict:
    _require(params, "Name", "Owner", "ProductType")
    if params["ProductType"] not in PRODUCT_TYPES:
        raise AwsError(
            "InvalidParametersException",
            f"ProductType '{params['ProductType']}' is not valid: use one of {', '.join(PRODUCT_TYPES)}.",
        )
    earlier = _idempotent(ctx, "CreateProduct", params.get("IdempotencyToken"))
    if earlier:
        return earlier
    artifact = _new_artifact(ctx, "pending", params.get("ProvisioningArtifactParameters"))
    product = _moto(ctx).create_product(
        name=params["Name"],
        owner=params["Owner"],
        description=params.get("Description"),
        distributor=params.get("Distributor"),
        support_description=params.get("SupportDescription"),
        support_email=params.get("SupportEmail"),
        support_url=params.get("SupportUrl"),
        product_type=params["ProductType"],
        tags=params.get("Tags") or [],
        provisioning_artifact_parameters=params.get("ProvisioningArtifactParameters"),
        source_connection=params.get("SourceConnection"),
    )
    artifact.product_id = product.id
    catalog = store(ctx)
    with catalog.lock:
        catalog.artifacts[product.id] = [artifact]
    result = {
        "ProductViewDetail": _product_view_detail(product),
        "ProvisioningArtifactDetail": artifact.detail(),
        "Tags": _moto(ctx)._list_tags_for_resource(product.arn),
    }
    if params.get("IdempotencyToken"):
        catalog.tokens[("CreateProduct", params["IdempotencyToken"])] = result
    return result


def _launch_paths(ctx: Context, product_id: str) -> list[dict]:
    catalog = store(ctx)
    paths = []
    for portfolio_id in catalog.associations.get(product_id, []):
        portfolio = _moto(ctx).portfolios.get(portfolio_id)
        if portfolio is None:
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


@operation(SERVICE, "DescribeProduct")
def describe_product(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("Id"), params.get("Name"))
    artifacts = [a for a in store(ctx).artifacts.get(product.id, []) if a.active]
    return {
        "ProductViewSummary": product.to_dict(),
        "ProvisioningArtifacts": [{**a.summary(), "Guidance": a.guidance} for a in artifacts],
        "Budgets": [],
        "LaunchPaths": [{"Id": p["Id"], "Name": p["Name"]} for p in _launch_paths(ctx, product.id)],
    }


@operation(SERVICE, "DescribeProductAsAdmin")
def describe_product_as_admin(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("Id"), params.get("Name"))
    return {
        "ProductViewDetail": _product_view_detail(product),
        "ProvisioningArtifactSummaries": [a.summary() for a in store(ctx).artifacts.get(product.id, [])],
        "Tags": _moto(ctx)._list_tags_for_resource(product.arn),
        "TagOptions": [],
        "Budgets": [],
    }


@operation(SERVICE, "DeleteProduct")
def delete_product(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("Id"))
    catalog = store(ctx)
    if catalog.associations.get(product.id):
        raise AwsError(
            "ResourceInUseException",
            f"Product {product.id} is associated with portfolio(s) "
            f"{', '.join(catalog.associations[product.id])}: "
            "disassociate it first.",
        )
    _moto(ctx).delete_product(None, product.id)
    catalog.artifacts.pop(product.id, None)
    return {}


def _matches_filters(ctx: Context, product: Any, filters: dict | None) -> bool:
    for key, values in (filters or {}).items():
        values = [str(v).lower() for v in values or []]
        if not values:
            continue
        if key == "FullTextSearch":
            tags = " ".join(
                f"{t['Key']} {t['Value']}" for t in _moto(ctx)._list_tags_for_resource(product.arn)
            )
            text = " ".join(str(x) for x in (product.name, product.owner, product.description, tags)).lower()
            if not any(v in text for v in values):
                return False
        elif (key == "Owner" and str(product.owner).lower() not in values) or (
            key == "ProductType" and product.product_type.lower() not in values
        ):
            return False
    return True


def _page(
    items: list, params: dict, size_key: str = "PageSize", token_key: str = "PageToken"
) -> tuple[list, dict]:
    size = int(params.get(size_key) or 20)
    start = int(params.get(token_key) or 0)
    extra = {"NextPageToken": str(start + size)} if start + size < len(items) else {}
    return items[start : start + size], extra


@operation(SERVICE, "SearchProducts")
def search_products(ctx: Context, params: dict) -> dict:
    catalog = store(ctx)
    products = [
        p
        for p in _moto(ctx).products.values()
        if catalog.associations.get(p.id) and _matches_filters(ctx, p, params.get("Filters"))
    ]
    page, extra = _page(products, params)
    return {"ProductViewSummaries": [p.to_dict() for p in page], "ProductViewAggregations": {}, **extra}


@operation(SERVICE, "SearchProductsAsAdmin")
def search_products_as_admin(ctx: Context, params: dict) -> dict:
    portfolio_id = params.get("PortfolioId")
    if portfolio_id:
        _portfolio(ctx, portfolio_id)
    catalog = store(ctx)
    products = [
        p
        for p in _moto(ctx).products.values()
        if (not portfolio_id or portfolio_id in catalog.associations.get(p.id, []))
        and _matches_filters(ctx, p, params.get("Filters"))
    ]
    page, extra = _page(products, params)
    return {"ProductViewDetails": [_product_view_detail(p) for p in page], **extra}


@operation(SERVICE, "CreateProvisioningArtifact")
def create_provisioning_artifact(ctx: Context, params: dict) -> dict:
    _require(params, "ProductId", "Parameters")
    product = _product(ctx, params["ProductId"])
    earlier = _idempotent(ctx, "CreateProvisioningArtifact", params.get("IdempotencyToken"))
    if earlier:
        return earlier
    artifact = _new_artifact(ctx, product.id, params["Parameters"])
    catalog = store(ctx)
    with catalog.lock:
        catalog.artifacts.setdefault(product.id, []).append(artifact)
    result = {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Info": {"LoadTemplateFromURL": artifact.template_url},
        "Status": "AVAILABLE",
    }
    if params.get("IdempotencyToken"):
        catalog.tokens[("CreateProvisioningArtifact", params["IdempotencyToken"])] = result
    return result


def _parameters_of(template: dict) -> list[dict]:
    out = []
    for name, spec in (template.get("Parameters") or {}).items():
        out.append(
            {
                "ParameterKey": name,
                "DefaultValue": str(spec["Default"]) if "Default" in spec else None,
                "ParameterType": spec.get("Type", "String"),
                "IsNoEcho": bool(spec.get("NoEcho", False)),
                "Description": spec.get("Description", ""),
                "ParameterConstraints": {
                    "AllowedValues": [str(v) for v in spec.get("AllowedValues", [])],
                    **({"AllowedPattern": spec["AllowedPattern"]} if "AllowedPattern" in spec else {}),
                    **(
                        {"ConstraintDescription": spec["ConstraintDescription"]}
                        if "ConstraintDescription" in spec
                        else {}
                    ),
                },
            }
        )
    return out


@operation(SERVICE, "DescribeProvisioningArtifact")
def describe_provisioning_artifact(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("ProductId"), params.get("ProductName"))
    artifact = _artifact(
        ctx, product.id, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
    )
    out: dict = {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Info": {"TemplateUrl": artifact.template_url},
        "Status": "AVAILABLE",
    }
    if params.get("IncludeProvisioningArtifactParameters"):
        out["ProvisioningArtifactParameters"] = _parameters_of(load_template(ctx, artifact.template_url)[1])
    return out


@operation(SERVICE, "DescribeProvisioningParameters")
def describe_provisioning_parameters(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("ProductId"), params.get("ProductName"))
    artifact = _artifact(
        ctx, product.id, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
    )
    return {
        "ProvisioningArtifactParameters": _parameters_of(load_template(ctx, artifact.template_url)[1]),
        "ConstraintSummaries": [],
        "UsageInstructions": [],
        "TagOptions": [],
    }


@operation(SERVICE, "ListProvisioningArtifacts")
def list_provisioning_artifacts(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("ProductId"))
    return {"ProvisioningArtifactDetails": [a.detail() for a in store(ctx).artifacts.get(product.id, [])]}


@operation(SERVICE, "UpdateProvisioningArtifact")
def update_provisioning_artifact(ctx: Context, params: dict) -> dict:
    _require(params, "ProductId", "ProvisioningArtifactId")
    product = _product(ctx, params["ProductId"])
    artifact = _artifact(ctx, product.id, params["ProvisioningArtifactId"])
    guidance = params.get("Guidance")
    if guidance is not None and guidance not in GUIDANCES:
        raise AwsError(
            "InvalidParametersException", f"Guidance '{guidance}' is not valid: use DEFAULT or DEPRECATED."
        )
    if params.get("Name") is not None:
        artifact.name = params["Name"]
    if params.get("Description") is not None:
        artifact.description = params["Description"]
    if params.get("Active") is not None:
        artifact.active = bool(params["Active"])
    if guidance is not None:
        artifact.guidance = guidance
    return {
        "ProvisioningArtifactDetail": artifact.detail(),
        "Info": {"TemplateUrl": artifact.template_url},
        "Status": "AVAILABLE",
    }


@operation(SERVICE, "DeleteProvisioningArtifact")
def delete_provisioning_artifact(ctx: Context, params: dict) -> dict:
    _require(params, "ProductId", "ProvisioningArtifactId")
    product = _product(ctx, params["ProductId"])
    artifact = _artifact(ctx, product.id, params["ProvisioningArtifactId"])
    catalog = store(ctx)
    artifacts = catalog.artifacts[product.id]
    if len(artifacts) == 1:
        raise AwsError(
            "InvalidParametersException",
            f"Provisioning artifact {artifact.id} is the product's last one: a product needs at least one.",
        )
    in_use = [
        pp.id for pp in catalog.provisioned.values() if pp.artifact_id == artifact.id and not pp.terminated
    ]
    if in_use:
        raise AwsError(
            "ResourceInUseException",
            f"Provisioning artifact {artifact.id} is used by provisioned product(s) {', '.join(in_use)}.",
        )
    artifacts.remove(artifact)
    return {}


# -- portfolios: associations, constraints, principals, launch paths -----------------------------------------


@operation(SERVICE, "AssociateProductWithPortfolio")
def associate_product_with_portfolio(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("ProductId"))
    portfolio = _portfolio(ctx, params.get("PortfolioId"))
    catalog = store(ctx)
    with catalog.lock:
        portfolios = catalog.associations.setdefault(product.id, [])
        if portfolio.id not in portfolios:
            portfolios.append(portfolio.id)
        catalog.launch_paths.setdefault(portfolio.id, new_id("lpv3-"))
    return {}


@operation(SERVICE, "DisassociateProductFromPortfolio")
def disassociate_product_from_portfolio(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("ProductId"))
    portfolio = _portfolio(ctx, params.get("PortfolioId"))
    catalog = store(ctx)
    if portfolio.id not in catalog.associations.get(product.id, []):
        raise AwsError(
            "ResourceNotFoundException",
            f"Product {product.id} is not associated with portfolio {portfolio.id}.",
        )
    if any(
        c.product_id == product.id and c.portfolio_id == portfolio.id for c in catalog.constraints.values()
    ):
        raise AwsError(
            "ResourceInUseException",
            f"Product {product.id} has constraints in portfolio {portfolio.id}: delete them first.",
        )
    catalog.associations[product.id].remove(portfolio.id)
    return {}


@operation(SERVICE, "ListPortfoliosForProduct")
def list_portfolios_for_product(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("ProductId"))
    portfolios = _moto(ctx).portfolios
    ids = store(ctx).associations.get(product.id, [])
    return {"PortfolioDetails": [portfolios[i].to_dict() for i in ids if i in portfolios]}


def _check_launch_role(ctx: Context, role_arn: Any) -> None:
    if not isinstance(role_arn, str) or not role_arn.startswith("arn:"):
        raise AwsError(
            "InvalidParametersException",
            'Parameters of a LAUNCH constraint must be {"RoleArn": "arn:aws:iam::<account>:role/<name>"} '
            '(or {"LocalRoleName": "<name>"}).',
        )
    iam = get_backend("iam")[ctx.account_id]["global"]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's NotFoundException
        raise AwsError(
            "InvalidParametersException",
            f"Access denied while assuming the role {role_arn}: the role does not exist. Create it first.",
        ) from None
    document = role.assume_role_policy_document
    if isinstance(document, str):
        document = json.loads(unquote(document)) if document.strip().startswith(("{", "%7B")) else {}
    for statement in (document or {}).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if "servicecatalog.amazonaws.com" in services and any(
            a in ("sts:AssumeRole", "sts:*", "*") for a in actions
        ):
            return
    raise AwsError(
        "InvalidParametersException",
        f"Access denied while assuming the role {role_arn}: its trust policy does not allow "
        "servicecatalog.amazonaws.com to call sts:AssumeRole.",
    )


@operation(SERVICE, "CreateConstraint")
def create_constraint(ctx: Context, params: dict) -> dict:
    _require(params, "PortfolioId", "ProductId", "Parameters", "Type")
    portfolio = _portfolio(ctx, params["PortfolioId"])
    product = _product(ctx, params["ProductId"])
    catalog = store(ctx)
    earlier = _idempotent(ctx, "CreateConstraint", params.get("IdempotencyToken"))
    if earlier:
        return earlier
    if portfolio.id not in catalog.associations.get(product.id, []):
        raise AwsError(
            "ResourceNotFoundException",
            f"Product {product.id} is not associated with portfolio {portfolio.id}: associate it first.",
        )
    kind = params["Type"]
    if kind not in ("LAUNCH", "NOTIFICATION", "RESOURCE_UPDATE", "STACKSET", "TEMPLATE"):
        raise AwsError("InvalidParametersException", f"Type '{kind}' is not a constraint type (e.g. LAUNCH).")
    try:
        parameters = json.loads(params["Parameters"])
    except (TypeError, ValueError):
        raise AwsError("InvalidParametersException", "Parameters must be a JSON string.") from None
    if kind == "LAUNCH":
        if "LocalRoleName" in parameters:
            _check_launch_role(ctx, f"arn:aws:iam::{ctx.account_id}:role/{parameters['LocalRoleName']}")
        else:
            _check_launch_role(ctx, parameters.get("RoleArn"))
        for other in catalog.constraints.values():
            if (
                other.type == "LAUNCH"
                and other.product_id == product.id
                and other.portfolio_id == portfolio.id
            ):
                raise AwsError(
                    "DuplicateResourceException",
                    f"Product {product.id} already has a LAUNCH constraint ({other.id}) "
                    f"in portfolio {portfolio.id}.",
                )
    constraint = Constraint(
        id=new_id("cons-"),
        type=kind,
        description=params.get("Description") or "",
        parameters=params["Parameters"],
        product_id=product.id,
        portfolio_id=portfolio.id,
        owner=ctx.account_id,
    )
    with catalog.lock:
        catalog.constraints[constraint.id] = constraint
    result = {
        "ConstraintDetail": constraint.detail(),
        "ConstraintParameters": constraint.parameters,
        "Status": "AVAILABLE",
    }
    if params.get("IdempotencyToken"):
        catalog.tokens[("CreateConstraint", params["IdempotencyToken"])] = result
    return result


def _constraint(ctx: Context, constraint_id: str | None) -> Constraint:
    constraint = store(ctx).constraints.get(constraint_id or "")
    if constraint is None:
        raise AwsError("ResourceNotFoundException", f"Constraint {constraint_id} not found.")
    return constraint


@operation(SERVICE, "DescribeConstraint")
def describe_constraint(ctx: Context, params: dict) -> dict:
    constraint = _constraint(ctx, params.get("Id"))
    return {
        "ConstraintDetail": constraint.detail(),
        "ConstraintParameters": constraint.parameters,
        "Status": "AVAILABLE",
    }


@operation(SERVICE, "DeleteConstraint")
def delete_constraint(ctx: Context, params: dict) -> dict:
    constraint = _constraint(ctx, params.get("Id"))
    store(ctx).constraints.pop(constraint.id, None)
    return {}


@operation(SERVICE, "ListConstraintsForPortfolio")
def list_constraints_for_portfolio(ctx: Context, params: dict) -> dict:
    portfolio = _portfolio(ctx, params.get("PortfolioId"))
    product_id = params.get("ProductId")
    found = [
        c.detail()
        for c in store(ctx).constraints.values()
        if c.portfolio_id == portfolio.id and (not product_id or c.product_id == product_id)
    ]
    return {"ConstraintDetails": found}


@operation(SERVICE, "AssociatePrincipalWithPortfolio")
def associate_principal_with_portfolio(ctx: Context, params: dict) -> dict:
    _require(params, "PortfolioId", "PrincipalARN", "PrincipalType")
    portfolio = _portfolio(ctx, params["PortfolioId"])
    kind = params["PrincipalType"]
    if kind not in ("IAM", "IAM_PATTERN"):
        raise AwsError(
            "InvalidParametersException", f"PrincipalType '{kind}' is not valid: use IAM or IAM_PATTERN."
        )
    arn = params["PrincipalARN"]
    if kind == "IAM" and not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user|group)/.+", arn):
        raise AwsError(
            "InvalidParametersException", f"PrincipalARN '{arn}' is not an IAM role, user or group ARN."
        )
    catalog = store(ctx)
    with catalog.lock:
        principals = catalog.principals.setdefault(portfolio.id, [])
        entry = {"PrincipalARN": arn, "PrincipalType": kind}
        if entry not in principals:
            principals.append(entry)
    return {}


@operation(SERVICE, "DisassociatePrincipalFromPortfolio")
def disassociate_principal_from_portfolio(ctx: Context, params: dict) -> dict:
    portfolio = _portfolio(ctx, params.get("PortfolioId"))
    principals = store(ctx).principals.get(portfolio.id, [])
    kept = [p for p in principals if p["PrincipalARN"] != params.get("PrincipalARN")]
    if len(kept) == len(principals):
        raise AwsError(
            "ResourceNotFoundException",
            f"Principal {params.get('PrincipalARN')} is not associated with portfolio {portfolio.id}.",
        )
    store(ctx).principals[portfolio.id] = kept
    return {}


@operation(SERVICE, "ListPrincipalsForPortfolio")
def list_principals_for_portfolio(ctx: Context, params: dict) -> dict:
    portfolio = _portfolio(ctx, params.get("PortfolioId"))
    return {"Principals": list(store(ctx).principals.get(portfolio.id, []))}


@operation(SERVICE, "ListLaunchPaths")
def list_launch_paths(ctx: Context, params: dict) -> dict:
    product = _product(ctx, params.get("ProductId"))
    paths = [{k: v for k, v in p.items() if k != "portfolio_id"} for p in _launch_paths(ctx, product.id)]
    return {"LaunchPathSummaries": paths}


# -- provisioning --------------------------------------------------------------------------------------------


def _launch_role(ctx: Context, product_id: str, portfolio_id: str | None) -> str | None:
    for constraint in store(ctx).constraints.values():
        if constraint.type != "LAUNCH" or constraint.product_id != product_id:
            continue
        if portfolio_id and constraint.portfolio_id != portfolio_id:
            continue
        parameters = json.loads(constraint.parameters)
        if "LocalRoleName" in parameters:
            return f"arn:aws:iam::{ctx.account_id}:role/{parameters['LocalRoleName']}"
        return parameters.get("RoleArn")
    return None


def _resolve_path(ctx: Context, product_id: str, path_id: str | None) -> tuple[str | None, str | None]:
    """(launch path id, portfolio id) for a provisioning; ResourceNotFound when the product has no path."""
    paths = _launch_paths(ctx, product_id)
    if path_id:
        for path in paths:
            if path_id in (path["Id"], path["portfolio_id"]):
                return path["Id"], path["portfolio_id"]
        raise AwsError(
            "ResourceNotFoundException", f"Launch path {path_id} not found for product {product_id}."
        )
    if not paths:
        raise AwsError(
            "ResourceNotFoundException",
            f"No launch paths found for product {product_id}: associate it with a portfolio first.",
        )
    if len(paths) > 1:
        raise AwsError(
            "InvalidParametersException",
            f"Product {product_id} has {len(paths)} launch paths: give PathId (see list_launch_paths).",
        )
    return paths[0]["Id"], paths[0]["portfolio_id"]


def parameter_error_message(problems: list) -> str:
    """CloudFormation's kind of message for refused parameter values, each naming its parameter."""
    parts = []
    for problem in problems:
        shown = "no value" if problem.value is None else f"value '{problem.value}'"
        parts.append(f"Parameter '{problem.name}' ({shown}) failed to satisfy constraint: {problem.message}")
    return "Parameter validation failed: " + "; ".join(parts)


def check_values(template: dict, values: dict[str, str]) -> None:
    problems = check_parameters(template, values)
    if problems:
        raise AwsError("InvalidParametersException", parameter_error_message(problems))


def _parameter_values(params: list[dict] | None, previous: dict[str, str] | None = None) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in params or []:
        key = item.get("Key")
        if not key:
            raise AwsError("InvalidParametersException", "Every ProvisioningParameters entry needs a Key.")
        if item.get("UsePreviousValue") and previous is not None and key in previous:
            values[key] = previous[key]
        else:
            values[key] = str(item.get("Value", ""))
    return values


def provision(
    ctx: Context,
    product_id: str,
    artifact_id: str,
    name: str,
    values: dict[str, str],
    tags: dict[str, str] | None = None,
    path_id: str | None = None,
    token: str | None = None,
) -> Record:
    """Check the values, then start the stack; returns the PROVISION_PRODUCT record (IN_PROGRESS)."""
    from standin import cloudformation

    product = _product(ctx, product_id)
    artifact = _artifact(ctx, product.id, artifact_id)
    path, portfolio_id = _resolve_path(ctx, product.id, path_id)
    catalog = store(ctx)
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}", name or ""):
        raise AwsError(
            "InvalidParametersException",
            f"ProvisionedProductName '{name}' is not valid: 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
        )
    if any(pp.name == name and not pp.terminated for pp in catalog.provisioned.values()):
        raise AwsError("DuplicateResourceException", f"A provisioned product named {name} already exists.")
    body, template = load_template(ctx, artifact.template_url)
    check_values(template, values)
    pp_id = new_id("pp-")
    launch_role = _launch_role(ctx, product.id, portfolio_id)
    pp = ProvisionedProduct(
        id=pp_id,
        name=name,
        arn=f"arn:aws:servicecatalog:{ctx.region}:{ctx.account_id}:stack/{name}/{pp_id}",
        product_id=product.id,
        artifact_id=artifact.id,
        path_id=path,
        stack_name=f"SC-{ctx.account_id}-{pp_id}",
        launch_role=launch_role,
        tags=dict(tags or {}),
        parameters=dict(values),
        idempotency_token=token or new_id("", 20),
    )
    stack_tags = {**pp.tags, "aws:servicecatalog:provisionedProductArn": pp.arn}
    try:
        stack_id = cloudformation.create_stack_async(
            ctx.account_id,
            ctx.region,
            pp.stack_name,
            body,
            parameters=values,
            tags=stack_tags,
            env=ctx.standin.env if ctx.standin is not None else None,
            role_arn=launch_role,
        )
    except AwsError as error:
        raise AwsError("InvalidParametersException", error.message) from None
    pp.stack_id = stack_id
    record = Record(new_id("rec-"), "PROVISION_PRODUCT", pp, artifact.id, path, stack_id)
    pp.records.append(record)
    with catalog.lock:
        catalog.provisioned[pp.id] = pp
        catalog.records[record.id] = record
    return record


def _stack(ctx: Context, stack_id: str | None) -> Any:
    backend = ctx.backend("cloudformation")
    return backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)


def _stack_failures(stack: Any) -> list[dict]:
    errors = []
    for event in getattr(stack, "events", []):
        status = getattr(event, "resource_status", "")
        if status.endswith("_FAILED") and getattr(event, "logical_resource_id", "") != stack.name:
            errors.append(
                {
                    "Code": status,
                    "Description": f"{event.logical_resource_id} ({event.resource_type}): "
                    f"{event.resource_status_reason or status}",
                }
            )
    return errors


def _outputs(stack: Any) -> list[dict]:
    try:
        outputs = list(stack.output_map.values()) if stack is not None else []
    except Exception:  # noqa: BLE001 - an output that cannot be resolved is left out, not fatal
        return []
    return [
        {"OutputKey": o.key, "OutputValue": str(o.value), "Description": o.description or ""} for o in outputs
    ]


_OUTCOME = {
    "PROVISION_PRODUCT": ({"CREATE_COMPLETE"}, {"CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"}),
    "UPDATE_PROVISIONED_PRODUCT": (
        {"UPDATE_COMPLETE"},
        {"UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"},
    ),
    "TERMINATE_PROVISIONED_PRODUCT": ({"DELETE_COMPLETE"}, set()),
}


def refresh(ctx: Context, record: Record) -> Record:
    """Bring a record (and its provisioned product) up to date with its stack."""
    if record.final:
        return record
    stack = _stack(ctx, record.stack_id)
    pp = record.provisioned_product
    status = stack.status if stack is not None else "DELETE_COMPLETE"
    done, running = _OUTCOME[record.record_type]
    if record.record_type == "TERMINATE_PROVISIONED_PRODUCT" and not status.startswith("DELETE_"):
        running = {status}
    if status in running or (status.endswith("_IN_PROGRESS") and status not in done):
        return record
    record.updated = _now()
    record.final = True
    if status in done:
        record.status = "SUCCEEDED"
        if record.record_type == "TERMINATE_PROVISIONED_PRODUCT":
            pp.terminated = True
            pp.status = "AVAILABLE"
        else:
            pp.status, pp.status_message, pp.last_success = "AVAILABLE", "", record.id
            record.outputs = _outputs(stack)
    else:
        record.status = "FAILED"
        record.errors = _stack_failures(stack) if stack is not None else []
        reasons = "; ".join(e["Description"] for e in record.errors) or f"stack {status}"
        if record.record_type == "PROVISION_PRODUCT":
            pp.status = "ERROR"
            pp.status_message = f"The following resource(s) failed to create: {reasons}"
        elif record.record_type == "UPDATE_PROVISIONED_PRODUCT":
            pp.status = "TAINTED"
            pp.status_message = f"The update failed: {reasons}"
        else:
            pp.status = "ERROR"
            pp.status_message = f"The following resource(s) failed to delete: {reasons}"
    return record


def provisioned_product(
    ctx: Context, pp_id: str | None = None, name: str | None = None
) -> ProvisionedProduct:
    catalog = store(ctx)
    for pp in catalog.provisioned.values():
        if (pp_id and pp.id == pp_id) or (not pp_id and name and pp.name == name):
            refresh(ctx, pp.records[-1])
            if pp.terminated:
                break
            return pp
    raise AwsError("ResourceNotFoundException", f"Provisioned product {pp_id or name} not found.")


@operation(SERVICE, "ProvisionProduct")
def provision_product(ctx: Context, params: dict) -> dict:
    _require(params, "ProvisionedProductName", "ProvisionToken")
    product = _product(ctx, params.get("ProductId"), params.get("ProductName"))
    artifact = _artifact(
        ctx, product.id, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
    )
    earlier = _idempotent(ctx, "ProvisionProduct", params["ProvisionToken"])
    if earlier:
        return {"RecordDetail": refresh(ctx, earlier).detail()}
    record = provision(
        ctx,
        product.id,
        artifact.id,
        params["ProvisionedProductName"],
        _parameter_values(params.get("ProvisioningParameters")),
        tags={t["Key"]: t["Value"] for t in params.get("Tags") or []},
        path_id=params.get("PathId") or params.get("PathName"),
        token=params["ProvisionToken"],
    )
    store(ctx).tokens[("ProvisionProduct", params["ProvisionToken"])] = record
    return {"RecordDetail": record.detail()}


@operation(SERVICE, "DescribeRecord")
def describe_record(ctx: Context, params: dict) -> dict:
    record = store(ctx).records.get(params.get("Id") or "")
    if record is None:
        raise AwsError("ResourceNotFoundException", f"Record {params.get('Id')} not found.")
    refresh(ctx, record)
    return {"RecordDetail": record.detail(), "RecordOutputs": record.outputs}


@operation(SERVICE, "DescribeProvisionedProduct")
def describe_provisioned_product(ctx: Context, params: dict) -> dict:
    if not params.get("Id") and not params.get("Name"):
        raise AwsError("InvalidParametersException", "Give Id or Name of the provisioned product.")
    pp = provisioned_product(ctx, params.get("Id"), params.get("Name"))
    return {"ProvisionedProductDetail": pp.detail(), "CloudWatchDashboards": []}


def update(
    ctx: Context,
    pp: ProvisionedProduct,
    artifact_id: str | None,
    values: dict[str, str] | None,
    path_id: str | None = None,
    previous: list[dict] | None = None,
) -> Record:
    """Update the provisioned product's stack with a new artifact and/or parameters."""
    from standin import cloudformation

    if pp.status == "UNDER_CHANGE":
        raise AwsError(
            "InvalidStateException", f"Provisioned product {pp.id} is under change: wait for its last record."
        )
    artifact = _artifact(ctx, pp.product_id, artifact_id or pp.artifact_id)
    body, template = load_template(ctx, artifact.template_url)
    merged = dict(pp.parameters)
    merged.update(values or {})
    merged = {k: v for k, v in merged.items() if k in (template.get("Parameters") or {})}
    check_values(template, merged)
    try:
        cloudformation.update_stack_async(
            ctx.account_id,
            ctx.region,
            pp.stack_id or pp.stack_name,
            body,
            parameters=merged,
            env=ctx.standin.env if ctx.standin is not None else None,
        )
    except AwsError as error:
        raise AwsError("InvalidParametersException", error.message) from None
    pp.artifact_id, pp.parameters, pp.status = artifact.id, merged, "UNDER_CHANGE"
    record = Record(
        new_id("rec-"), "UPDATE_PROVISIONED_PRODUCT", pp, artifact.id, path_id or pp.path_id, pp.stack_id
    )
    pp.records.append(record)
    store(ctx).records[record.id] = record
    return record


@operation(SERVICE, "UpdateProvisionedProduct")
def update_provisioned_product(ctx: Context, params: dict) -> dict:
    pp = provisioned_product(ctx, params.get("ProvisionedProductId"), params.get("ProvisionedProductName"))
    if params.get("ProductId") and params["ProductId"] != pp.product_id:
        raise AwsError(
            "InvalidParametersException", "Changing a provisioned product's ProductId is not supported."
        )
    values = _parameter_values(params.get("ProvisioningParameters"), pp.parameters)
    record = update(ctx, pp, params.get("ProvisioningArtifactId"), values, params.get("PathId"))
    return {"RecordDetail": record.detail()}


def terminate(ctx: Context, pp: ProvisionedProduct) -> Record:
    from standin import cloudformation

    if pp.status == "UNDER_CHANGE":
        raise AwsError(
            "InvalidStateException", f"Provisioned product {pp.id} is under change: wait for its last record."
        )
    cloudformation.delete_stack_async(
        ctx.account_id, ctx.region, pp.stack_id or pp.stack_name, env=ctx.standin.env if ctx.standin else None
    )
    pp.status = "UNDER_CHANGE"
    record = Record(
        new_id("rec-"), "TERMINATE_PROVISIONED_PRODUCT", pp, pp.artifact_id, pp.path_id, pp.stack_id
    )
    pp.records.append(record)
    store(ctx).records[record.id] = record
    return record


@operation(SERVICE, "TerminateProvisionedProduct")
def terminate_provisioned_product(ctx: Context, params: dict) -> dict:
    _require(params, "TerminateToken")
    pp = provisioned_product(ctx, params.get("ProvisionedProductId"), params.get("ProvisionedProductName"))
    return {"RecordDetail": terminate(ctx, pp).detail()}


def _attributes(ctx: Context, pp: ProvisionedProduct) -> dict:
    product = _moto(ctx).products.get(pp.product_id)
    artifact = next((a for a in store(ctx).artifacts.get(pp.product_id, []) if a.id == pp.artifact_id), None)
    detail = pp.detail()
    return {
        **{k: detail[k] for k in ("Name", "Arn", "Type", "Id", "Status", "StatusMessage", "CreatedTime")},
        "IdempotencyToken": pp.idempotency_token,
        "LastRecordId": detail["LastRecordId"],
        "Tags": [{"Key": k, "Value": v} for k, v in pp.tags.items()],
        "PhysicalId": pp.stack_id or "",
        "ProductId": pp.product_id,
        "ProductName": product.name if product else "",
        "ProvisioningArtifactId": pp.artifact_id,
        "ProvisioningArtifactName": artifact.name if artifact else "",
        "UserArn": f"arn:aws:iam::{ctx.account_id}:user/moto",
    }


def _live(ctx: Context) -> list[ProvisionedProduct]:
    out = []
    for pp in list(store(ctx).provisioned.values()):
        refresh(ctx, pp.records[-1])
        if not pp.terminated:
            out.append(pp)
    return out


@operation(SERVICE, "SearchProvisionedProducts")
def search_provisioned_products(ctx: Context, params: dict) -> dict:
    queries = [q.lower() for q in ((params.get("Filters") or {}).get("SearchQuery") or [])]
    found = []
    for pp in _live(ctx):
        attributes = _attributes(ctx, pp)
        ok = True
        for query in queries:
            key, sep, value = query.partition(":")
            if sep and key in ("name", "id", "arn", "status", "productid", "provisioningartifactid", "type"):
                field_name = {
                    "productid": "ProductId",
                    "provisioningartifactid": "ProvisioningArtifactId",
                }.get(key, key.capitalize())
                ok = ok and str(attributes.get(field_name, "")).lower() == value
            elif sep and key.startswith("tags."):
                ok = ok and pp.tags.get(query[len("tags.") : query.index(":")]) is not None
            else:
                ok = ok and query in json.dumps(attributes, default=str).lower()
        if ok:
            found.append(attributes)
    page, extra = _page(found, params)
    return {"ProvisionedProducts": page, "TotalResultsCount": len(found), **extra}


@operation(SERVICE, "ScanProvisionedProducts")
def scan_provisioned_products(ctx: Context, params: dict) -> dict:
    page, extra = _page([pp.detail() for pp in _live(ctx)], params)
    return {"ProvisionedProducts": page, **extra}


def wait_for(ctx: Context, record: Record, timeout: float = 600.0) -> Record:
    """Block until a record is final (for callers in the same process, e.g. tests)."""
    deadline = time.monotonic() + timeout
    while not refresh(ctx, record).final and time.monotonic() < deadline:
        time.sleep(0.05)
    return record
