"""Service Catalog's admin API around moto's portfolios: product associations, LAUNCH constraints (the role
must exist in IAM and trust ``servicecatalog.amazonaws.com``), principals, and launch paths."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from moto.backends import get_backend

from standin.dispatch import AwsError, Context, operation
from standin.servicecatalog.state import (
    SERVICE,
    Constraint,
    find_portfolio,
    find_product,
    find_product_as_end_user,
    idempotent,
    launch_paths,
    moto_backend,
    new_id,
    require,
    store,
)


@operation(SERVICE, "AssociateProductWithPortfolio")
def associate_product_with_portfolio(ctx: Context, params: dict) -> dict:
    product = find_product(ctx, params.get("ProductId"))
    portfolio = find_portfolio(ctx, params.get("PortfolioId"))
    catalog = store(ctx)
    with catalog.lock:
        portfolios = catalog.associations.setdefault(product.id, [])
        if portfolio.id not in portfolios:
            portfolios.append(portfolio.id)
        catalog.launch_paths.setdefault(portfolio.id, new_id("lpv3-"))
    return {}


@operation(SERVICE, "DisassociateProductFromPortfolio")
def disassociate_product_from_portfolio(ctx: Context, params: dict) -> dict:
    product = find_product(ctx, params.get("ProductId"))
    portfolio = find_portfolio(ctx, params.get("PortfolioId"))
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
    product = find_product(ctx, params.get("ProductId"))
    portfolios = moto_backend(ctx).portfolios
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
    require(params, "PortfolioId", "ProductId", "Parameters", "Type")
    portfolio = find_portfolio(ctx, params["PortfolioId"])
    product = find_product(ctx, params["ProductId"])
    catalog = store(ctx)
    earlier = idempotent(ctx, "CreateConstraint", params.get("IdempotencyToken"))
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
    portfolio = find_portfolio(ctx, params.get("PortfolioId"))
    product_id = params.get("ProductId")
    found = [
        c.detail()
        for c in store(ctx).constraints.values()
        if c.portfolio_id == portfolio.id and (not product_id or c.product_id == product_id)
    ]
    return {"ConstraintDetails": found}


@operation(SERVICE, "AssociatePrincipalWithPortfolio")
def associate_principal_with_portfolio(ctx: Context, params: dict) -> dict:
    require(params, "PortfolioId", "PrincipalARN", "PrincipalType")
    portfolio = find_portfolio(ctx, params["PortfolioId"])
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
    portfolio = find_portfolio(ctx, params.get("PortfolioId"))
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
    portfolio = find_portfolio(ctx, params.get("PortfolioId"))
    return {"Principals": list(store(ctx).principals.get(portfolio.id, []))}


@operation(SERVICE, "ListLaunchPaths")
def list_launch_paths(ctx: Context, params: dict) -> dict:
    product = find_product_as_end_user(ctx, params.get("ProductId"))
    paths = [{k: v for k, v in p.items() if k != "portfolio_id"} for p in launch_paths(ctx, product.id)]
    return {"LaunchPathSummaries": paths}
