"""Service Catalog's admin API for products and their provisioning artifacts: create, describe (as admin),
delete and search products; create, describe, list, update (Guidance ``DEPRECATED``) and delete
provisioning artifacts, and the provisioning parameters an artifact's template asks for."""

from __future__ import annotations

from typing import Any

from standin.dispatch import AwsError, Context, operation
from standin.servicecatalog.state import (
    SERVICE,
    Artifact,
    find_artifact,
    find_portfolio,
    find_product,
    find_product_as_end_user,
    idempotent,
    launch_paths,
    moto_backend,
    new_id,
    paginate,
    require,
    store,
)
from standin.servicecatalog.templates import load_template

PRODUCT_TYPES = ("CLOUD_FORMATION_TEMPLATE", "MARKETPLACE", "TERRAFORM_OPEN_SOURCE", "EXTERNAL")


GUIDANCES = ("DEFAULT", "DEPRECATED")


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


@operation(SERVICE, "CreateProduct")
def create_product(ctx: Context, params: dict) -> dict:
    require(params, "Name", "Owner", "ProductType")
    if params["ProductType"] not in PRODUCT_TYPES:
        raise AwsError(
            "InvalidParametersException",
            f"ProductType '{params['ProductType']}' is not valid: use one of {', '.join(PRODUCT_TYPES)}.",
        )
    earlier = idempotent(ctx, "CreateProduct", params.get("IdempotencyToken"))
    if earlier:
        return earlier
    artifact = _new_artifact(ctx, "pending", params.get("ProvisioningArtifactParameters"))
    product = moto_backend(ctx).create_product(
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
        "Tags": moto_backend(ctx)._list_tags_for_resource(product.arn),
    }
    if params.get("IdempotencyToken"):
        catalog.tokens[("CreateProduct", params["IdempotencyToken"])] = result
    return result


@operation(SERVICE, "DescribeProduct")
def describe_product(ctx: Context, params: dict) -> dict:
    product = find_product_as_end_user(ctx, params.get("Id"), params.get("Name"))
    artifacts = [a for a in store(ctx).artifacts.get(product.id, []) if a.active]
    return {
        "ProductViewSummary": product.to_dict(),
        "ProvisioningArtifacts": [{**a.summary(), "Guidance": a.guidance} for a in artifacts],
        "Budgets": [],
        "LaunchPaths": [{"Id": p["Id"], "Name": p["Name"]} for p in launch_paths(ctx, product.id)],
    }


@operation(SERVICE, "DescribeProductAsAdmin")
def describe_product_as_admin(ctx: Context, params: dict) -> dict:
    product = find_product(ctx, params.get("Id"), params.get("Name"))
    return {
        "ProductViewDetail": _product_view_detail(product),
        "ProvisioningArtifactSummaries": [a.summary() for a in store(ctx).artifacts.get(product.id, [])],
        "Tags": moto_backend(ctx)._list_tags_for_resource(product.arn),
        "TagOptions": [],
        "Budgets": [],
    }


@operation(SERVICE, "DeleteProduct")
def delete_product(ctx: Context, params: dict) -> dict:
    product = find_product(ctx, params.get("Id"))
    catalog = store(ctx)
    if catalog.associations.get(product.id):
        raise AwsError(
            "ResourceInUseException",
            f"Product {product.id} is associated with portfolio(s) "
            f"{', '.join(catalog.associations[product.id])}: "
            "disassociate it first.",
        )
    moto_backend(ctx).delete_product(None, product.id)
    catalog.artifacts.pop(product.id, None)
    return {}


def _matches_filters(ctx: Context, product: Any, filters: dict | None) -> bool:
    for key, values in (filters or {}).items():
        values = [str(v).lower() for v in values or []]
        if not values:
            continue
        if key == "FullTextSearch":
            tags = " ".join(
                f"{t['Key']} {t['Value']}" for t in moto_backend(ctx)._list_tags_for_resource(product.arn)
            )
            text = " ".join(str(x) for x in (product.name, product.owner, product.description, tags)).lower()
            if not any(v in text for v in values):
                return False
        elif (key == "Owner" and str(product.owner).lower() not in values) or (
            key == "ProductType" and product.product_type.lower() not in values
        ):
            return False
    return True


@operation(SERVICE, "SearchProducts")
def search_products(ctx: Context, params: dict) -> dict:
    catalog = store(ctx)
    products = [
        p
        for p in moto_backend(ctx).products.values()
        if catalog.associations.get(p.id)
        and launch_paths(ctx, p.id)
        and _matches_filters(ctx, p, params.get("Filters"))
    ]
    page, extra = paginate(products, params)
    return {"ProductViewSummaries": [p.to_dict() for p in page], "ProductViewAggregations": {}, **extra}


@operation(SERVICE, "SearchProductsAsAdmin")
def search_products_as_admin(ctx: Context, params: dict) -> dict:
    portfolio_id = params.get("PortfolioId")
    if portfolio_id:
        find_portfolio(ctx, portfolio_id)
    catalog = store(ctx)
    products = [
        p
        for p in moto_backend(ctx).products.values()
        if (not portfolio_id or portfolio_id in catalog.associations.get(p.id, []))
        and _matches_filters(ctx, p, params.get("Filters"))
    ]
    page, extra = paginate(products, params)
    return {"ProductViewDetails": [_product_view_detail(p) for p in page], **extra}


@operation(SERVICE, "CreateProvisioningArtifact")
def create_provisioning_artifact(ctx: Context, params: dict) -> dict:
    require(params, "ProductId", "Parameters")
    product = find_product(ctx, params["ProductId"])
    earlier = idempotent(ctx, "CreateProvisioningArtifact", params.get("IdempotencyToken"))
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
                    **{
                        key: str(spec[key])
                        for key in ("ConstraintDescription", "MaxLength", "MinLength", "MaxValue", "MinValue")
                        if key in spec
                    },
                },
            }
        )
    return out


def _asked_artifact(ctx: Context, params: dict) -> Artifact:
    """The version a call names, by id or name, of the product it names, by id or name."""
    product = find_product(ctx, params.get("ProductId"), params.get("ProductName"))
    return find_artifact(
        ctx, product.id, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
    )


@operation(SERVICE, "DescribeProvisioningArtifact")
def describe_provisioning_artifact(ctx: Context, params: dict) -> dict:
    artifact = _asked_artifact(ctx, params)
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
    product = find_product_as_end_user(ctx, params.get("ProductId"), params.get("ProductName"))
    artifact = find_artifact(
        ctx, product.id, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
    )
    path = params.get("PathId") or params.get("PathName")
    if path and not any(path in (p["Id"], p["Name"]) for p in launch_paths(ctx, product.id)):
        raise AwsError("ResourceNotFoundException", f"Launch path {path} not found for product {product.id}.")
    return {
        "ProvisioningArtifactParameters": _parameters_of(load_template(ctx, artifact.template_url)[1]),
        "ConstraintSummaries": [],
        "UsageInstructions": [],
        "TagOptions": [],
    }


@operation(SERVICE, "ListProvisioningArtifacts")
def list_provisioning_artifacts(ctx: Context, params: dict) -> dict:
    product = find_product(ctx, params.get("ProductId"))
    return {"ProvisioningArtifactDetails": [a.detail() for a in store(ctx).artifacts.get(product.id, [])]}


@operation(SERVICE, "UpdateProvisioningArtifact")
def update_provisioning_artifact(ctx: Context, params: dict) -> dict:
    require(params, "ProductId", "ProvisioningArtifactId")
    product = find_product(ctx, params["ProductId"])
    artifact = find_artifact(ctx, product.id, params["ProvisioningArtifactId"])
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
    require(params, "ProductId", "ProvisioningArtifactId")
    product = find_product(ctx, params["ProductId"])
    artifact = find_artifact(ctx, product.id, params["ProvisioningArtifactId"])
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
