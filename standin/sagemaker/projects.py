"""SageMaker projects as Studio creates them: a Service Catalog provisioning with the project's name and id.

``create_project`` provisions the product with ``SageMakerProjectName``/``SageMakerProjectId`` added to the
parameters and the tags ``sagemaker:project-name``/``sagemaker:project-id``; the project's status follows its
provisioned product's last record (Pending, CreateInProgress, CreateCompleted, CreateFailed, ...). On failure,
``ServiceCatalogProvisionedProductDetails.ProvisionedProductStatusMessage`` names the failing logical resource
and the reason, from the stack's events. Domains are moto's own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from standin.dispatch import AwsError, Context, check_members, operation
from standin.servicecatalog import provisioning
from standin.servicecatalog.state import new_id
from standin.servicecatalog.state import store as catalog_store

SERVICE = "sagemaker"
STORE = "sagemaker_projects"
_STATUS = {
    ("PROVISION_PRODUCT", "IN_PROGRESS"): "CreateInProgress",
    ("PROVISION_PRODUCT", "SUCCEEDED"): "CreateCompleted",
    ("PROVISION_PRODUCT", "FAILED"): "CreateFailed",
    ("UPDATE_PROVISIONED_PRODUCT", "IN_PROGRESS"): "UpdateInProgress",
    ("UPDATE_PROVISIONED_PRODUCT", "SUCCEEDED"): "UpdateCompleted",
    ("UPDATE_PROVISIONED_PRODUCT", "FAILED"): "UpdateFailed",
    ("TERMINATE_PROVISIONED_PRODUCT", "IN_PROGRESS"): "DeleteInProgress",
    ("TERMINATE_PROVISIONED_PRODUCT", "SUCCEEDED"): "DeleteCompleted",
    ("TERMINATE_PROVISIONED_PRODUCT", "FAILED"): "DeleteFailed",
}


@dataclass
class Project:
    name: str
    id: str
    arn: str
    description: str
    details: dict
    tags: list[dict]
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime | None = None
    provisioned_product_id: str | None = None
    status: str = "Pending"
    failure: str = ""


class ProjectStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.projects: dict[str, Project] = {}
        self.portfolio_enabled = False


def _store(ctx: Context) -> ProjectStore:
    return ctx.store(STORE, ProjectStore)


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def _refresh(ctx: Context, project: Project) -> Project:
    if project.provisioned_product_id is None:
        return project
    pp = catalog_store(ctx).provisioned.get(project.provisioned_product_id)
    if pp is None:
        return project
    record = provisioning.refresh(ctx, pp.records[-1])
    project.status = _STATUS[(record.record_type, record.status)]
    project.failure = pp.status_message if record.status == "FAILED" else ""
    return project


def _project(ctx: Context, name: str | None) -> Project:
    project = _store(ctx).projects.get(name or "")
    if project is None:
        raise _validation(f"Project {name} does not exist.")
    return _refresh(ctx, project)


def _describe(ctx: Context, project: Project) -> dict:
    out = {
        "ProjectArn": project.arn,
        "ProjectName": project.name,
        "ProjectId": project.id,
        "ProjectDescription": project.description,
        "ServiceCatalogProvisioningDetails": project.details,
        "ProjectStatus": project.status,
        "CreationTime": project.created,
        "CreatedBy": {"UserProfileName": "standin"},
    }
    if project.provisioned_product_id:
        sc_details = {"ProvisionedProductId": project.provisioned_product_id}
        if project.failure:
            sc_details["ProvisionedProductStatusMessage"] = project.failure
        out["ServiceCatalogProvisionedProductDetails"] = sc_details
    if project.modified:
        out["LastModifiedTime"] = project.modified
    return out


def _values(details: dict) -> dict[str, str]:
    values = {}
    for item in details.get("ProvisioningParameters") or []:
        if not item.get("Key"):
            raise _validation("Every ProvisioningParameters entry needs a Key.")
        values[item["Key"]] = str(item.get("Value", ""))
    return values


@operation(SERVICE, "CreateProject")
def create_project(ctx: Context, params: dict) -> dict:
    check_members(SERVICE, "CreateProject", params, ("ProjectName", "ProjectDescription"))
    name = params.get("ProjectName") or ""
    details = params.get("ServiceCatalogProvisioningDetails")
    if not details or not details.get("ProductId"):
        raise _validation(
            "ServiceCatalogProvisioningDetails.ProductId is required (TemplateProviders is not supported)."
        )
    store = _store(ctx)
    if name in store.projects and store.projects[name].status != "DeleteCompleted":
        raise _validation(f"Project {name} already exists.")
    project_id = new_id("p-", 12)
    values = _values(details)
    for reserved in ("SageMakerProjectName", "SageMakerProjectId"):
        if reserved in values:
            raise _validation(f"ProvisioningParameters must not set {reserved}: SageMaker fills it in.")
    values.update(SageMakerProjectName=name, SageMakerProjectId=project_id)
    artifact_id = details.get("ProvisioningArtifactId")
    if not artifact_id:
        artifacts = [
            a for a in catalog_store(ctx).artifacts.get(details["ProductId"], []) if a.guidance == "DEFAULT"
        ]
        if not artifacts:
            raise _validation(f"Product {details['ProductId']} has no provisioning artifact to use.")
        artifact_id = artifacts[-1].id
    tags = {t["Key"]: t["Value"] for t in params.get("Tags") or []}
    tags.update({"sagemaker:project-name": name, "sagemaker:project-id": project_id})
    try:
        record = provisioning.provision(
            ctx,
            details["ProductId"],
            artifact_id,
            f"{name}-{project_id}",
            values,
            tags=tags,
            path_id=details.get("PathId"),
        )
    except AwsError as error:
        raise _validation(error.message) from None
    project = Project(
        name=name,
        id=project_id,
        arn=f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:project/{name.lower()}",
        description=params.get("ProjectDescription") or "",
        details={**details, "ProvisioningArtifactId": artifact_id},
        tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        provisioned_product_id=record.provisioned_product.id,
        status="CreateInProgress",
    )
    with store.lock:
        store.projects[name] = project
    return {"ProjectArn": project.arn, "ProjectId": project.id}


@operation(SERVICE, "DescribeProject")
def describe_project(ctx: Context, params: dict) -> dict:
    return _describe(ctx, _project(ctx, params.get("ProjectName")))


@operation(SERVICE, "ListProjects")
def list_projects(ctx: Context, params: dict) -> dict:
    projects = [_refresh(ctx, p) for p in _store(ctx).projects.values()]
    contains = params.get("NameContains")
    if contains:
        projects = [p for p in projects if contains in p.name]
    projects.sort(key=lambda p: p.created, reverse=params.get("SortOrder", "Descending") == "Descending")
    return {
        "ProjectSummaryList": [
            {
                "ProjectName": p.name,
                "ProjectDescription": p.description,
                "ProjectArn": p.arn,
                "ProjectId": p.id,
                "CreationTime": p.created,
                "ProjectStatus": p.status,
            }
            for p in projects
        ]
    }


@operation(SERVICE, "UpdateProject")
def update_project(ctx: Context, params: dict) -> dict:
    project = _project(ctx, params.get("ProjectName"))
    if project.status not in ("CreateCompleted", "UpdateCompleted", "UpdateFailed"):
        raise _validation(
            f"Project {project.name} is {project.status}: it can be updated once it is created."
        )
    update = params.get("ServiceCatalogProvisioningUpdateDetails") or {}
    pp = catalog_store(ctx).provisioned.get(project.provisioned_product_id or "")
    if pp is None:
        raise _validation(f"Project {project.name} has no provisioned product.")
    values = _values(update)
    values.update(SageMakerProjectName=project.name, SageMakerProjectId=project.id)
    try:
        provisioning.update(ctx, pp, update.get("ProvisioningArtifactId"), values)
    except AwsError as error:
        raise _validation(error.message) from None
    if update.get("ProvisioningArtifactId"):
        project.details["ProvisioningArtifactId"] = update["ProvisioningArtifactId"]
    if params.get("ProjectDescription") is not None:
        project.description = params["ProjectDescription"]
    project.modified = datetime.now(UTC)
    project.status = "UpdateInProgress"
    return {"ProjectArn": project.arn}


@operation(SERVICE, "DeleteProject")
def delete_project(ctx: Context, params: dict) -> dict:
    project = _project(ctx, params.get("ProjectName"))
    if project.status.endswith("InProgress"):
        raise _validation(f"Project {project.name} is {project.status}: wait for it to finish.")
    pp = catalog_store(ctx).provisioned.get(project.provisioned_product_id or "")
    if pp is not None and not pp.terminated:
        try:
            provisioning.terminate(ctx, pp)
        except AwsError as error:
            raise _validation(error.message) from None
        project.status = "DeleteInProgress"
    else:
        project.status = "DeleteCompleted"
    return {}


@operation(SERVICE, "EnableSagemakerServicecatalogPortfolio")
def enable_portfolio(ctx: Context, params: dict) -> dict:
    _store(ctx).portfolio_enabled = True
    return {}


@operation(SERVICE, "DisableSagemakerServicecatalogPortfolio")
def disable_portfolio(ctx: Context, params: dict) -> dict:
    _store(ctx).portfolio_enabled = False
    return {}


@operation(SERVICE, "GetSagemakerServicecatalogPortfolioStatus")
def get_portfolio_status(ctx: Context, params: dict) -> dict:
    return {"Status": "Enabled" if _store(ctx).portfolio_enabled else "Disabled"}
