"""Service Catalog's end-user API for provisioned products: provision, describe record and provisioned
product, update, terminate, search and scan (the work is the provisioning engine's)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from standin.dispatch import AwsError, Context, operation
from standin.iam.authorization import Principal
from standin.iam.enforcement import context_keys
from standin.servicecatalog.provisioning import (
    parameter_values,
    provision,
    provisioned_product,
    refresh,
    terminate,
    update,
)
from standin.servicecatalog.state import (
    SERVICE,
    STORE,
    CatalogStore,
    ProvisionedProduct,
    find_artifact,
    find_product,
    idempotent,
    moto_backend,
    paginate,
    require,
    store,
)


@context_keys(SERVICE)
def user_level(
    standin: Any,
    account: str,
    region: str,
    operation_name: str,
    params: Mapping[str, Any],
    principal: Principal,
) -> dict[str, list[str]]:
    """`servicecatalog:userLevel` of a request on a provisioned product: `self` for the session that
    provisioned it, `role` for another session of its role, `account` for anyone else in the account."""
    wanted_id = params.get("ProvisionedProductId") or (
        params.get("Id") if "ProvisionedProduct" in operation_name else None
    )
    wanted_name = params.get("ProvisionedProductName")
    if not wanted_id and not wanted_name:
        return {}
    catalog = standin.layer.store(STORE, account, region, CatalogStore)
    found = next(
        (pp for pp in list(catalog.provisioned.values()) if pp.id == wanted_id or pp.name == wanted_name),
        None,
    )
    if found is None or not found.user_arn:
        return {}
    if found.user_arn == principal.arn:
        return {"servicecatalog:userLevel": ["self"]}
    same_role = (
        ":assumed-role/" in found.user_arn
        and found.user_arn.split("/")[1] == principal.entity_arn.rsplit("/", 1)[-1]
    )
    return {"servicecatalog:userLevel": ["role" if same_role else "account"]}


@operation(SERVICE, "ProvisionProduct")
def provision_product(ctx: Context, params: dict) -> dict:
    require(params, "ProvisionedProductName", "ProvisionToken")
    product = find_product(ctx, params.get("ProductId"), params.get("ProductName"))
    artifact = find_artifact(
        ctx, product.id, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
    )
    earlier = idempotent(ctx, "ProvisionProduct", params["ProvisionToken"])
    if earlier:
        return {"RecordDetail": refresh(ctx, earlier).detail()}
    record = provision(
        ctx,
        product.id,
        artifact.id,
        params["ProvisionedProductName"],
        parameter_values(params.get("ProvisioningParameters")),
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


@operation(SERVICE, "UpdateProvisionedProduct")
def update_provisioned_product(ctx: Context, params: dict) -> dict:
    pp = provisioned_product(ctx, params.get("ProvisionedProductId"), params.get("ProvisionedProductName"))
    if params.get("ProductId") and params["ProductId"] != pp.product_id:
        raise AwsError(
            "InvalidParametersException", "Changing a provisioned product's ProductId is not supported."
        )
    values = parameter_values(params.get("ProvisioningParameters"), pp.parameters)
    record = update(ctx, pp, params.get("ProvisioningArtifactId"), values, params.get("PathId"))
    return {"RecordDetail": record.detail()}


@operation(SERVICE, "TerminateProvisionedProduct")
def terminate_provisioned_product(ctx: Context, params: dict) -> dict:
    require(params, "TerminateToken")
    pp = provisioned_product(ctx, params.get("ProvisionedProductId"), params.get("ProvisionedProductName"))
    return {"RecordDetail": terminate(ctx, pp).detail()}


def _attributes(ctx: Context, pp: ProvisionedProduct) -> dict:
    product = moto_backend(ctx).products.get(pp.product_id)
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
        "UserArn": pp.user_arn,
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
    page, extra = paginate(found, params)
    return {"ProvisionedProducts": page, "TotalResultsCount": len(found), **extra}


@operation(SERVICE, "ScanProvisionedProducts")
def scan_provisioned_products(ctx: Context, params: dict) -> dict:
    page, extra = paginate([pp.detail() for pp in _live(ctx)], params)
    return {"ProvisionedProducts": page, **extra}
