"""The product as a data scientist's Studio role sees it: Service Catalog's end-user API only.

`project create` finds the product (`SearchProducts`), its newest usable version (`DescribeProduct`), the
caller's launch path (`ListLaunchPaths`) and the version's form (`DescribeProvisioningParameters`), as Studio
does: none of the admin calls a Studio execution role is not given. A caller that is not a principal of the
product's portfolio has no launch path, and Service Catalog hides the product from it; the refusal then names
the identity to add and the command that adds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from scripts.common import Aws, BadInput, CommandError, NotFound, error_code, paginate, session_role_arn

DEPRECATED = "DEPRECATED"


@dataclass
class ProductView:
    """What the caller may launch: the product, the version, the launch path, and the version's form as a
    template's ``Parameters`` section (what `generator.validation` checks values against)."""

    product_id: str
    artifact_id: str
    path_id: str
    template: dict[str, Any]


def caller_role_arn(aws: Aws) -> str:
    """The caller as a portfolio principal (what `register --add-caller` adds): its role with the role's path
    when IAM tells it (a Studio role may not read IAM), a user itself."""
    from scripts.servicecatalog import caller_principal

    try:
        return caller_principal(aws)
    except ClientError:
        role = session_role_arn(aws.caller_arn)
        if role is None:
            raise
        return role
    except BadInput:
        return aws.caller_arn


def no_launch_path(aws: Aws, product: str) -> CommandError:
    """The refusal for a caller that is not a principal of the product's portfolio."""
    who = caller_role_arn(aws)
    if ":iam::" in who:
        fix = (
            f"an administrator runs `sm-mlops register --studio-role-arn {who}` (or, as this identity, "
            "`sm-mlops register --add-caller`); then run this command again"
        )
    else:  # the account's root user, say: no IAM role or user, so never a principal
        fix = (
            "run this command as an IAM role that is a principal of the portfolio (a Studio execution role), "
            "or have an administrator add yours with `sm-mlops register --studio-role-arn ROLE_ARN`"
        )
    return NotFound(
        f"{aws.caller_arn} has no launch path to product {product}: the identity {who} is not a principal "
        "of a portfolio holding it (or the product is not registered)",
        field="--product-name",
        fix=fix,
    )


def find_product_id(aws: Aws, name: str) -> str:
    """The id of the product called ``name`` among those the caller may launch."""
    sc = aws.client("servicecatalog")
    found: list[str] = []
    token: str | None = None
    while True:
        more = {"PageToken": token} if token else {}
        page = sc.search_products(Filters={"FullTextSearch": [name]}, **more)
        found += [p["ProductId"] for p in page.get("ProductViewSummaries", []) if p.get("Name") == name]
        token = page.get("NextPageToken")
        if not token:
            break
    if not found:
        raise no_launch_path(aws, repr(name))
    if len(set(found)) > 1:
        raise CommandError(
            f"{len(set(found))} products are called {name!r}: {', '.join(sorted(set(found)))}",
            field="--product-name",
            fix="pass --product-id",
        )
    return found[0]


def _end_user_call(aws: Aws, product_id: str, call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise no_launch_path(aws, product_id) from None
        raise


def newest_version(aws: Aws, product_id: str) -> str:
    """The newest version of the product that is not deprecated (end users see active versions only)."""
    sc = aws.client("servicecatalog")
    described = _end_user_call(aws, product_id, sc.describe_product, Id=product_id)
    usable = [a for a in described.get("ProvisioningArtifacts", []) if a.get("Guidance") != DEPRECATED]
    if not usable:
        raise NotFound(
            f"product {product_id} has no active version",
            field="--product-id",
            fix="an administrator runs `sm-mlops register`",
        )
    return str(max(usable, key=lambda a: str(a.get("CreatedTime", "")))["Id"])


def launch_path(aws: Aws, product_id: str) -> str:
    """The caller's launch path to the product (the first, as Studio takes it, when there are several)."""
    sc = aws.client("servicecatalog")
    paths = _end_user_call(
        aws,
        product_id,
        lambda: paginate(sc, "list_launch_paths", "LaunchPathSummaries", ProductId=product_id),
    )
    if not paths:
        raise no_launch_path(aws, product_id)
    return str(paths[0]["Id"])


def form(aws: Aws, product_id: str, artifact_id: str, path_id: str) -> dict[str, Any]:
    """The version's parameters and their constraints, shaped as a template's ``Parameters`` section."""
    sc = aws.client("servicecatalog")
    answer = _end_user_call(
        aws,
        product_id,
        sc.describe_provisioning_parameters,
        ProductId=product_id,
        ProvisioningArtifactId=artifact_id,
        PathId=path_id,
    )
    parameters: dict[str, Any] = {}
    for item in answer.get("ProvisioningArtifactParameters", []):
        spec: dict[str, Any] = {"Type": item.get("ParameterType") or "String"}
        if item.get("DefaultValue") is not None:
            spec["Default"] = item["DefaultValue"]
        constraints = item.get("ParameterConstraints") or {}
        if constraints.get("AllowedValues"):
            spec["AllowedValues"] = list(constraints["AllowedValues"])
        for key in ("AllowedPattern", "ConstraintDescription", "MinLength", "MaxLength"):
            if constraints.get(key) not in (None, ""):
                spec[key] = constraints[key]
        parameters[item["ParameterKey"]] = spec
    return {"Parameters": parameters}


def look_up(aws: Aws, product_id: str, artifact_id: str | None = None) -> ProductView:
    """Version, launch path and form of the product, as the caller may launch it."""
    path_id = launch_path(aws, product_id)
    artifact_id = artifact_id or newest_version(aws, product_id)
    return ProductView(product_id, artifact_id, path_id, form(aws, product_id, artifact_id, path_id))
