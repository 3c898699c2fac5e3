"""`register` / `deregister`: the product in Service Catalog, as Studio needs it.

Each step is an idempotent `ensure_*`: it finds what an earlier run made before creating anything, so a run
that failed half-way is finished by running the command again, and three runs give one portfolio, one
product and one version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from generator import constants as c
from scripts.asset_bucket import (
    check_asset_admins,
    ensure_bucket,
    ensure_bucket_policy,
    ensure_object,
    template_url,
)
from scripts.common import (
    ASSUMED_ROLE,
    Aws,
    BadInput,
    CommandError,
    NotFound,
    is_not_found,
    paginate,
    progress,
    retry_on,
    session_role_arn,
)
from scripts.iam_roles import role_arn
from scripts.templates import RENDER_FIX, read_template, template_hash, template_path

PORTFOLIO_NAME = "SageMaker MLOps templates (third-party Git)"
PRODUCT_NAME = (
    "MLOps template for model building, training, and deployment"
    " with third-party Git repositories using CodePipeline"
)
PROVIDER = "sm-mlops"
VISIBILITY_TAG = {"Key": "sagemaker:studio-visibility", "Value": "true"}
HASH_MARK = "template-sha256:"
STEPS = ("assets", "portfolio", "product", "version", "association", "launch-constraint", "principals")


def asset_bucket_name(account: str, region: str) -> str:
    """DESIGN.md "Assets": `sagemaker-mlops-assets-<account>-<region>` (≤ 50 characters)."""
    return c.ASSET_BUCKET_NAME.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)


def product_name_for(variant: str, role_family: str) -> str:
    extras = [] if variant == "v1" else [variant]
    if role_family == "projects":
        extras.append("AmazonSageMakerProjects roles")
    return PRODUCT_NAME + (f" ({', '.join(extras)})" if extras else "")


@dataclass
class RegisterOptions:
    variant: str = "v1"
    role_family: str = "service-catalog"
    template_file: Path | None = None
    portfolio_name: str = PORTFOLIO_NAME
    product_name: str | None = None
    launch_role_arn: str | None = None
    studio_role_arns: list[str] = field(default_factory=list)
    asset_admin_arns: list[str] = field(default_factory=list)
    add_caller: bool = False
    dry_run: bool = False
    render: bool = False


@dataclass
class Registration:
    """What a run found or did, step by step."""

    portfolio_id: str | None = None
    product_id: str | None = None
    artifact_id: str | None = None
    template_url: str | None = None
    template_hash: str | None = None
    actions: list[dict[str, str]] = field(default_factory=list)

    def note(self, step: str, action: str) -> None:
        self.actions.append({"step": step, "action": action})
        progress(f"  {step}: {action}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "portfolio_id": self.portfolio_id,
            "product_id": self.product_id,
            "provisioning_artifact_id": self.artifact_id,
            "template_url": self.template_url,
            "template_hash": self.template_hash,
            "actions": self.actions,
        }


# --- who the caller is ------------------------------------------------------------------------------------


def principal_arns(caller_arn: str) -> list[str]:
    """The `aws:PrincipalArn` values that are this caller. A role's session ARN names the role but not its
    path; role names are unique in an account, so `role/NAME` and `role/*/NAME` match that role only."""
    role = session_role_arn(caller_arn)
    if role is None:
        return [caller_arn]
    prefix, name = role.rsplit("/", 1)
    return [role, f"{prefix}/*/{name}"]


def caller_principal(aws: Aws) -> str:
    """The caller as a portfolio principal (`register --add-caller`): an assumed role's session is its role,
    read from IAM with its path (Service Catalog matches a principal's ARN exactly); a user is itself."""
    arn = aws.caller_arn
    assumed = ASSUMED_ROLE.fullmatch(arn)
    if assumed:
        return str(aws.client("iam").get_role(RoleName=assumed["role"])["Role"]["Arn"])
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:user/.+", arn):
        raise BadInput(
            f"the caller {arn} cannot be a portfolio principal: only IAM roles and users can",
            field="--add-caller",
            fix="run register as an IAM role or user, or name the role with --studio-role-arn",
        )
    return arn


# --- Service Catalog ----------------------------------------------------------------------------------------


def find_portfolio(sc: Any, name: str) -> str | None:
    matches = [
        p["Id"] for p in paginate(sc, "list_portfolios", "PortfolioDetails") if p["DisplayName"] == name
    ]
    return _the_one(matches, "portfolio", name)


def _the_one(ids: list[str], kind: str, name: str) -> str | None:
    """The one id of the ``kind`` called ``name``, None if there is none; several cannot be told apart."""
    if len(ids) > 1:
        raise CommandError(
            f"{len(ids)} {kind}s are called {name!r}: {', '.join(ids)}",
            field=f"--{kind}-name",
            fix=f"delete the extra {kind}s in the Service Catalog console, or pass another --{kind}-name",
        )
    return ids[0] if ids else None


def ensure_portfolio(sc: Any, name: str, *, dry_run: bool = False) -> tuple[str | None, str]:
    found = find_portfolio(sc, name)
    if found:
        return found, "exists"
    if dry_run:
        return None, f"would create portfolio {name!r}"
    created = sc.create_portfolio(
        DisplayName=name, ProviderName=PROVIDER, Description="SageMaker project templates"
    )
    return created["PortfolioDetail"]["Id"], "created"


def find_product(sc: Any, name: str) -> str | None:
    views = paginate(sc, "search_products_as_admin", "ProductViewDetails", Filters={"FullTextSearch": [name]})
    ids = sorted(
        {v["ProductViewSummary"]["ProductId"] for v in views if v["ProductViewSummary"]["Name"] == name}
    )
    return _the_one(ids, "product", name)


def artifact_description(digest: str, variant: str) -> str:
    return f"sm-mlops {variant} template, {HASH_MARK}{digest}"


def ensure_product(
    sc: Any, name: str, url: str, digest: str, variant: str, *, dry_run: bool = False
) -> tuple[str | None, str]:
    """The product tagged `sagemaker:studio-visibility=true`, created with this template as version 1."""
    found = find_product(sc, name)
    if found:
        tags = sc.describe_product_as_admin(Id=found).get("Tags", [])
        if any(t["Key"] == VISIBILITY_TAG["Key"] and t["Value"] == "true" for t in tags):
            return found, "exists"
        if dry_run:
            return found, "exists, would add tag sagemaker:studio-visibility=true"
        sc.update_product(Id=found, AddTags=[VISIBILITY_TAG])
        return found, "exists, tag sagemaker:studio-visibility=true added"
    if dry_run:
        return None, f"would create product {name!r}"
    created = sc.create_product(
        Name=name,
        Owner=PROVIDER,
        Description="SageMaker project: model build, training and deployment, third-party Git repositories",
        Distributor=PROVIDER,
        ProductType="CLOUD_FORMATION_TEMPLATE",
        Tags=[VISIBILITY_TAG],
        ProvisioningArtifactParameters={
            "Name": "v1",
            "Description": artifact_description(digest, variant),
            "Info": {"LoadTemplateFromURL": url},
            "Type": "CLOUD_FORMATION_TEMPLATE",
        },
    )
    return created["ProductViewDetail"]["ProductViewSummary"]["ProductId"], "created"


def ensure_version(
    sc: Any, product_id: str | None, url: str, digest: str, variant: str, *, dry_run: bool = False
) -> tuple[str | None, str]:
    """This template's provisioning artifact (new only when no version holds its hash) made the active,
    DEFAULT one; every other DEPRECATED. Registering an older template again rolls the product back to it."""
    if product_id is None:
        return None, "would be the product's first version"
    artifacts = sc.list_provisioning_artifacts(ProductId=product_id).get("ProvisioningArtifactDetails", [])
    mark = f"{HASH_MARK}{digest}"
    current = [a for a in artifacts if mark in (a.get("Description") or "")]
    notes = []
    if current:
        artifact_id = current[0]["Id"]
        notes.append(f"{current[0].get('Name', '')} holds this template".strip())
    elif dry_run:
        return None, f"would add version v{len(artifacts) + 1} (template changed)"
    else:
        created = sc.create_provisioning_artifact(
            ProductId=product_id,
            Parameters={
                "Name": f"v{len(artifacts) + 1}",
                "Description": artifact_description(digest, variant),
                "Info": {"LoadTemplateFromURL": url},
                "Type": "CLOUD_FORMATION_TEMPLATE",
            },
        )
        artifact_id = created["ProvisioningArtifactDetail"]["Id"]
        notes.append(f"created version v{len(artifacts) + 1}")
    # The wanted version first (DEFAULT and active), then the others: at no moment is none usable.
    for artifact in sorted(artifacts, key=lambda a: a["Id"] != artifact_id):
        detail = sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=artifact["Id"]
        )["ProvisioningArtifactDetail"]
        wanted: dict[str, Any] = (
            {"Guidance": "DEFAULT", "Active": True}
            if artifact["Id"] == artifact_id
            else {"Guidance": "DEPRECATED"}
        )
        changes = {k: v for k, v in wanted.items() if detail.get(k) != v}
        if not changes:
            continue
        name = artifact.get("Name", artifact["Id"])
        if dry_run:
            notes.append(f"would set {name} {', '.join(f'{k}={v}' for k, v in changes.items())}")
            continue
        sc.update_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=artifact["Id"], **changes
        )
        notes.append(
            f"made {name} the active, default version"
            if artifact["Id"] == artifact_id
            else f"deprecated {name}"
        )
    return artifact_id, "; ".join(notes)


def ensure_association(
    sc: Any, portfolio_id: str | None, product_id: str | None, *, dry_run: bool = False
) -> str:
    if portfolio_id is None or product_id is None:
        return "would associate"
    linked = paginate(sc, "list_portfolios_for_product", "PortfolioDetails", ProductId=product_id)
    if any(p["Id"] == portfolio_id for p in linked):
        return "exists"
    if dry_run:
        return "would associate"
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    return "associated"


def ensure_launch_constraint(
    sc: Any,
    portfolio_id: str | None,
    product_id: str | None,
    launch_role_arn: str,
    *,
    dry_run: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> str:
    if portfolio_id is None or product_id is None:
        return f"would create with {launch_role_arn}"
    constraints = paginate(
        sc,
        "list_constraints_for_portfolio",
        "ConstraintDetails",
        PortfolioId=portfolio_id,
        ProductId=product_id,
    )
    replaced = ""
    for constraint in [k for k in constraints if k["Type"] == "LAUNCH"]:
        detail = sc.describe_constraint(Id=constraint["ConstraintId"])
        named = json.loads(detail.get("ConstraintParameters") or "{}").get("RoleArn")
        if named == launch_role_arn:
            return "exists"
        # A product has one launch constraint per portfolio: the one naming another role goes first.
        if dry_run:
            return f"would replace (names {named}) with {launch_role_arn}"
        sc.delete_constraint(Id=constraint["ConstraintId"])
        replaced = f"replaced (named {named}), "
    if dry_run:
        return f"would create with {launch_role_arn}"
    kwargs: dict[str, Any] = {"sleep": sleep} if sleep else {}
    retry_on(
        lambda: sc.create_constraint(
            PortfolioId=portfolio_id,
            ProductId=product_id,
            Type="LAUNCH",
            Parameters=json.dumps({"RoleArn": launch_role_arn}),
            Description="Studio's launch role",
        ),
        # A role created moments ago is refused until IAM has propagated it.
        {"InvalidParametersException", "AccessDeniedException"},
        what="launch constraint (IAM propagating)",
        **kwargs,
    )
    return f"{replaced}created with {launch_role_arn}"


def ensure_principals(sc: Any, portfolio_id: str | None, arns: list[str], *, dry_run: bool = False) -> str:
    if portfolio_id is None:
        return f"would associate {len(arns)} role(s)"
    present = {
        p["PrincipalARN"]
        for p in paginate(sc, "list_principals_for_portfolio", "Principals", PortfolioId=portfolio_id)
    }
    missing = [arn for arn in arns if arn not in present]
    if not missing:
        return "exists"
    if dry_run:
        return f"would associate {', '.join(missing)}"
    for arn in missing:
        sc.associate_principal_with_portfolio(PortfolioId=portfolio_id, PrincipalARN=arn, PrincipalType="IAM")
    return f"associated {', '.join(missing)}"


ASSET_KEY = re.compile(r"(?:seedcode|seeding)/[A-Za-z0-9_.-]+\.zip")


def check_asset_keys(body: bytes, uploaded: set[str]) -> None:
    """Every seed zip the template names must be one this run uploads (else seeding fails at `aws s3 cp`)."""
    named = set(ASSET_KEY.findall(body.decode()))
    stale = sorted(named - uploaded)
    if stale:
        raise CommandError(
            f"the template names seed zips that are not the current seed code: {', '.join(stale)}",
            field="--template-file",
            fix=f"{RENDER_FIX}, or pass --render to render the variant now",
        )


def render_variant(name: str) -> bytes:
    """A variant rendered now by the generator (the same text `make templates` writes)."""
    from generator.config import VARIANTS
    from generator.render import render

    if name not in VARIANTS:
        raise BadInput(
            f"--render knows only {sorted(VARIANTS)}", field="--template-file", fix="drop --render"
        )
    return render(VARIANTS[name]).encode()


def studio_execution_roles(sagemaker: Any) -> list[str]:
    """The default execution role of every SageMaker domain in the region."""
    roles: list[str] = []
    for domain in paginate(sagemaker, "list_domains", "Domains"):
        detail = sagemaker.describe_domain(DomainId=domain["DomainId"])
        role = detail.get("DefaultUserSettings", {}).get("ExecutionRole")
        if role and role not in roles:
            roles.append(role)
    return roles


def register(
    aws: Aws,
    options: RegisterOptions,
    *,
    after_step: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Registration:
    """Upload, then portfolio → product → version → association → launch constraint → principals."""
    from seeding.assets import build_assets  # the zips the template names (lead's contract)

    check_asset_admins(options.asset_admin_arns)
    path = options.template_file or template_path(options.variant, options.role_family)
    if options.render:
        body = render_variant(path.stem)
    else:
        body, _ = read_template(path)
    assets = build_assets()
    check_asset_keys(body, {asset.key for asset in assets.values()})
    studio_roles = list(options.studio_role_arns) or studio_execution_roles(aws.client("sagemaker"))
    if not studio_roles:
        raise NotFound(
            "no Studio execution role to give the portfolio to: no --studio-role-arn and no SageMaker domain",
            field="--studio-role-arn",
            fix="pass --studio-role-arn arn:aws:iam::<account>:role/<your Studio execution role>",
        )
    for arn in studio_roles:
        if not arn.startswith("arn:") or ":role/" not in arn:
            raise BadInput(
                f"{arn!r} is not an IAM role ARN",
                field="--studio-role-arn",
                fix="give arn:aws:iam::<account>:role/NAME",
            )
    principals = studio_roles + [caller_principal(aws)] if options.add_caller else studio_roles
    launch_role = options.launch_role_arn or role_arn(
        aws.partition, aws.account, options.role_family, "Launch"
    )
    result = Registration()
    digest = template_hash(body)
    bucket = asset_bucket_name(aws.account, aws.region)
    key = f"templates/{path.stem}-{digest}.yaml"
    url = template_url(bucket, aws.region, key, aws.dns_suffix)
    result.template_url, result.template_hash = url, digest
    done = after_step or (lambda step: None)
    dry = options.dry_run

    s3 = aws.client("s3")
    uploads = [ensure_bucket(s3, bucket, aws.region, dry_run=dry)]
    admins = principal_arns(aws.caller_arn) + list(options.asset_admin_arns)
    uploads[0] += "; " + ensure_bucket_policy(s3, bucket, aws.account, aws.partition, admins, dry_run=dry)
    for asset in assets.values():
        uploads.append(ensure_object(s3, bucket, asset.key, asset.data, dry_run=dry))
    uploads.append(ensure_object(s3, bucket, key, body, dry_run=dry))
    result.note("assets", f"bucket {bucket} {uploads[0]}; objects: " + ", ".join(uploads[1:]))
    done("assets")

    sc = aws.client("servicecatalog")
    result.portfolio_id, action = ensure_portfolio(sc, options.portfolio_name, dry_run=dry)
    result.note("portfolio", f"{action} {result.portfolio_id or ''}".strip())
    done("portfolio")

    name = options.product_name or product_name_for(options.variant, options.role_family)
    result.product_id, action = ensure_product(sc, name, url, digest, options.variant, dry_run=dry)
    result.note("product", f"{action} {result.product_id or ''}".strip())
    done("product")

    result.artifact_id, action = ensure_version(
        sc, result.product_id, url, digest, options.variant, dry_run=dry
    )
    result.note("version", f"{action} {result.artifact_id or ''}".strip())
    done("version")

    result.note("association", ensure_association(sc, result.portfolio_id, result.product_id, dry_run=dry))
    done("association")

    action = ensure_launch_constraint(
        sc, result.portfolio_id, result.product_id, launch_role, dry_run=dry, sleep=sleep
    )
    result.note("launch-constraint", action)
    done("launch-constraint")

    result.note("principals", ensure_principals(sc, result.portfolio_id, principals, dry_run=dry))
    done("principals")
    return result


# --- deregister ---------------------------------------------------------------------------------------------


def projects_using(sagemaker: Any, product_id: str) -> list[str]:
    names = []
    for summary in paginate(sagemaker, "list_projects", "ProjectSummaryList"):
        if summary.get("ProjectStatus", "").startswith("Delete"):
            continue
        try:
            detail = sagemaker.describe_project(ProjectName=summary["ProjectName"])
        except ClientError as error:
            if is_not_found(error):
                continue
            raise
        if detail.get("ServiceCatalogProvisioningDetails", {}).get("ProductId") == product_id:
            names.append(summary["ProjectName"])
    return names


def deregister(aws: Aws, options: RegisterOptions, *, force: bool = False) -> list[dict[str, str]]:
    """Undo `register`: principals, constraints, association, product, then the portfolio if it is empty."""
    sc = aws.client("servicecatalog")
    name = options.product_name or product_name_for(options.variant, options.role_family)
    product_id = find_product(sc, name)
    portfolio_id = find_portfolio(sc, options.portfolio_name)
    if product_id is None and portfolio_id is None:
        raise NotFound(f"nothing registered: no product {name!r} and no portfolio {options.portfolio_name!r}")
    rows: list[dict[str, str]] = []
    if product_id:
        users = projects_using(aws.client("sagemaker"), product_id)
        if users and not force:
            raise NotFound(
                f"projects still use the product: {', '.join(users)}",
                field="--force",
                fix="delete them first (`sm-mlops project delete NAME`), or pass --force to go on",
            )
    if portfolio_id and product_id:
        for constraint in paginate(
            sc,
            "list_constraints_for_portfolio",
            "ConstraintDetails",
            PortfolioId=portfolio_id,
            ProductId=product_id,
        ):
            if not options.dry_run:
                sc.delete_constraint(Id=constraint["ConstraintId"])
            rows.append({"resource": f"constraint {constraint['ConstraintId']}", "action": "delete"})
        if not options.dry_run:
            sc.disassociate_product_from_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
        rows.append({"resource": f"association {product_id} ↔ {portfolio_id}", "action": "delete"})
    if product_id:
        if not options.dry_run:
            sc.delete_product(Id=product_id)
        rows.append({"resource": f"product {product_id}", "action": "delete"})
    if portfolio_id:
        remaining = paginate(sc, "search_products_as_admin", "ProductViewDetails", PortfolioId=portfolio_id)
        others = [v for v in remaining if v["ProductViewSummary"]["ProductId"] != product_id]
        if others:
            rows.append(
                {"resource": f"portfolio {portfolio_id}", "action": f"kept ({len(others)} other products)"}
            )
        else:
            for principal in paginate(
                sc, "list_principals_for_portfolio", "Principals", PortfolioId=portfolio_id
            ):
                if not options.dry_run:
                    sc.disassociate_principal_from_portfolio(
                        PortfolioId=portfolio_id, PrincipalARN=principal["PrincipalARN"], PrincipalType="IAM"
                    )
                rows.append({"resource": f"principal {principal['PrincipalARN']}", "action": "delete"})
            if not options.dry_run:
                sc.delete_portfolio(Id=portfolio_id)
            rows.append({"resource": f"portfolio {portfolio_id}", "action": "delete"})
    if options.dry_run:
        for row in rows:
            row["action"] = "would " + row["action"]
    return rows
