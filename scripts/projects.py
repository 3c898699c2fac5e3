"""`project create|update|status` (walkthrough steps 2 and 3): what Studio does with the product."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from generator import constants as c
from generator.validation import PROJECT_NAME
from scripts.common import (
    Aws,
    BadInput,
    CommandError,
    NotFound,
    Waiter,
    error_code,
    is_not_found,
    paginate,
    progress,
)
from scripts.templates import parse_template

PROJECT_NAME_RE = re.compile(PROJECT_NAME.pattern)  # the template's rule: SageMaker's own, 1 to 32 characters
PLACEHOLDER_ID = "p-000000000000"  # stands in for the id SageMaker will assign, for validation only
DEFAULT_DESCRIPTION = "MLOps with third-party Git repositories (sm-mlops)"
DESCRIPTION_MAX_LENGTH = 1024  # SageMaker's limit on ProjectDescription

# Hourly on-demand list prices of the instance types the seed code uses, real-time inference, us-east-1.
# Source: the Amazon SageMaker AI pricing page (aws.amazon.com/sagemaker/pricing), as of 2025-06; check it for
# your region: prices differ by region and change over time.
PRICE_TABLE_SOURCE = "Amazon SageMaker AI pricing page, real-time inference, us-east-1, as of 2025-06"
HOURLY_PRICE_USD = {
    "ml.t2.medium": 0.056,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.c5.large": 0.102,
}


def _named(pattern: str, doc: str = "") -> property:
    """A `Names` attribute: ``pattern`` (one of generator.constants) with the project's name and id put in."""
    return property(lambda names: names.resolve(pattern), doc=doc or f"the project's {pattern}")


@dataclass(frozen=True)
class Names:
    """Physical names the template and the seed code give a project's resources (generator.constants)."""

    name: str
    id: str

    def resolve(self, pattern: str) -> str:
        """A name pattern of generator.constants with this project's name and id put in."""
        return pattern.replace(f"${{{c.PROJECT_NAME}}}", self.name).replace(f"${{{c.PROJECT_ID}}}", self.id)

    prefix = _named(c.NAME_ID)
    build_pipeline = _named(c.MODELBUILD_PIPELINE_NAME)
    deploy_pipeline = _named(c.MODELDEPLOY_PIPELINE_NAME)
    deploy_rule = _named(c.DEPLOY_RULE_NAME)
    sagemaker_pipeline = _named(c.SAGEMAKER_PIPELINE_NAME)
    # SageMaker Pipelines names the Experiment of a pipeline's executions after the pipeline.
    experiment = _named(c.SAGEMAKER_PIPELINE_NAME, "the Experiment of the SageMaker pipeline's executions")
    model_package_group = _named(c.MODEL_PACKAGE_GROUP_NAME)
    bucket = _named(c.BUCKET_NAME)
    access_log_prefix = _named(c.ACCESS_LOG_PREFIX)

    @property
    def log_group_prefixes(self) -> tuple[str, ...]:
        """Log groups of the project's CodeBuild projects and its Lambda function."""
        return (f"/aws/codebuild/{self.prefix}-", f"/aws/lambda/{self.resolve(c.CHECKIN_LAMBDA_NAME)}")

    def deploy_stack(self, stage: str) -> str:
        return self.resolve({"staging": c.STAGING_STACK_NAME, "prod": c.PROD_STACK_NAME}[stage])

    def endpoint(self, stage: str) -> str:
        """The deploy seed's endpoint name (seedcode/modeldeploy/endpoint-config-template.yml)."""
        return f"{self.name}-{stage}"


def check_project_name(name: str) -> None:
    if not PROJECT_NAME_RE.match(name):
        raise BadInput(
            f"{name!r} is not a valid project name",
            field="ProjectName",
            fix=f"use {PROJECT_NAME.description}",
        )


def describe(sagemaker: Any, name: str) -> dict[str, Any]:
    try:
        return dict(sagemaker.describe_project(ProjectName=name))
    except ClientError as error:
        if is_not_found(error) or error_code(error) == "ValidationException":
            raise NotFound(f"project {name!r} does not exist", field="ProjectName") from error
        raise


def _existing(sagemaker: Any, name: str) -> dict[str, Any] | None:
    try:
        return describe(sagemaker, name)
    except NotFound:
        return None


def project_names(sagemaker: Any, name: str) -> Names:
    return Names(name, describe(sagemaker, name)["ProjectId"])


# --- the product and its template ---------------------------------------------------------------------------


def active_artifact(sc: Any, product_id: str) -> dict[str, Any]:
    """The newest active provisioning artifact that is not deprecated."""
    artifacts = sc.list_provisioning_artifacts(ProductId=product_id).get("ProvisioningArtifactDetails", [])
    usable = []
    for artifact in artifacts:
        if artifact.get("Active") is False:
            continue
        detail = sc.describe_provisioning_artifact(
            ProductId=product_id, ProvisioningArtifactId=artifact["Id"]
        )
        if detail["ProvisioningArtifactDetail"].get("Guidance") != "DEPRECATED":
            usable.append(artifact)
    if not usable:
        raise NotFound(
            f"product {product_id} has no active version", field="--product-id", fix="run `sm-mlops register`"
        )
    return max(usable, key=lambda a: str(a.get("CreatedTime", "")))


def artifact_template(aws: Aws, product_id: str, artifact_id: str) -> dict[str, Any]:
    """The template a provisioning artifact holds, read from the S3 URL Service Catalog keeps for it."""
    sc = aws.client("servicecatalog")
    info = sc.describe_provisioning_artifact(
        ProductId=product_id, ProvisioningArtifactId=artifact_id, Verbose=True
    )
    url = info.get("Info", {}).get("TemplateUrl") or info.get("Info", {}).get("LoadTemplateFromURL")
    if not url:
        raise CommandError(f"version {artifact_id} of product {product_id} names no template URL")
    bucket, key = s3_location(url)
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return parse_template(body)


def s3_location(url: str) -> tuple[str, str]:
    """Bucket and key of an S3 https URL (virtual-hosted or path style)."""
    parsed = urllib.parse.urlparse(url)
    host, path = parsed.netloc, urllib.parse.unquote(parsed.path.lstrip("/"))
    if url.startswith("s3://"):
        return host, path
    if ".s3." in host or ".s3-" in host:
        return host.split(".s3", 1)[0], path
    bucket, _, key = path.partition("/")
    return bucket, key


# --- parameters ---------------------------------------------------------------------------------------------


@dataclass
class RepoOptions:
    build_repo: str | None = None
    deploy_repo: str | None = None
    connection_arn: str | None = None
    build_branch: str = "main"
    deploy_branch: str = "main"
    seed_build: bool = True
    seed_deploy: bool = True
    git_host: str = "github.com"


def parameters_for(template: dict[str, Any], repos: RepoOptions, explicit: dict[str, str]) -> dict[str, str]:
    """Provisioning parameters for the template's form (v1: URL + toggle per repo; v2: one connection)."""
    declared = template.get("Parameters", {})
    values: dict[str, str] = {}
    for role, repo, branch, seed in (
        ("ModelBuild", repos.build_repo, repos.build_branch, repos.seed_build),
        ("ModelDeploy", repos.deploy_repo, repos.deploy_branch, repos.seed_deploy),
    ):
        candidates = {
            f"{role}CodeRepositoryFullname": repo,
            f"{role}CodeRepositoryBranch": branch,
            f"{role}CodeRepositoryUrl": f"https://{repos.git_host}/{repo}.git" if repo else None,
            f"{role}CodeRepositoryCodestarConnectionArn": repos.connection_arn,
            f"{role}CodeRepositoryIsSeedcodeRequired": "true" if seed else "false",
        }
        values.update({k: v for k, v in candidates.items() if v is not None and k in declared})
    if repos.connection_arn and "CodeConnectionArn" in declared:
        values["CodeConnectionArn"] = repos.connection_arn
    values.update(explicit)
    return values


def validate(template: dict[str, Any], name: str, values: dict[str, str]) -> None:
    """The project's one validator (generator.validation), before anything is created."""
    from generator.validation import check_parameters

    full = {"SageMakerProjectName": name, "SageMakerProjectId": PLACEHOLDER_ID, **values}
    problems = check_parameters(template, full)
    if problems:
        lines = [str(p) for p in problems]
        first = problems[0]
        raise BadInput(
            "the parameters do not fit the product's template:\n  " + "\n  ".join(lines),
            field=str(getattr(first, "name", "parameters")),
            fix="correct the values named above (the template's ConstraintDescription says what is valid)",
        )


def _provisioning_parameters(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(values.items())]


def check_description(description: str) -> None:
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise BadInput(
            f"the project description is {len(description)} characters long",
            field="--description",
            fix=f"use at most {DESCRIPTION_MAX_LENGTH} characters",
        )


def create_request(
    name: str, description: str, product_id: str, artifact_id: str, values: dict[str, str]
) -> dict[str, Any]:
    """The CreateProject request for these values (what `--dry-run` prints and the real run sends)."""
    return {
        "ProjectName": name,
        "ProjectDescription": description,
        "ServiceCatalogProvisioningDetails": {
            "ProductId": product_id,
            "ProvisioningArtifactId": artifact_id,
            "ProvisioningParameters": _provisioning_parameters(values),
        },
    }


# --- following a project ------------------------------------------------------------------------------------


def failure_detail(aws: Aws, project: dict[str, Any]) -> str:
    """The failing resource and its reason, from the provisioned product's stack events."""
    reason = project.get("ProjectStatus", "")
    pp_id = project.get("ServiceCatalogProvisionedProductDetails", {}).get("ProvisionedProductId")
    if not pp_id:
        return reason
    sc = aws.client("servicecatalog")
    try:
        detail = sc.describe_provisioned_product(Id=pp_id)["ProvisionedProductDetail"]
    except ClientError:
        return reason
    stack = detail.get("PhysicalId") or f"SC-{aws.account}-{pp_id}"
    try:
        events = paginate(
            aws.client("cloudformation"), "describe_stack_events", "StackEvents", StackName=stack
        )
    except ClientError:
        return f"{reason}: {detail.get('StatusMessage', '')}".strip(": ")
    failed = [
        e for e in events if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")
    ]
    if not failed:
        return f"{reason}: {detail.get('StatusMessage', '')}".strip(": ")
    first = failed[-1]  # events come newest first; the oldest failure is the cause
    kind = first.get("ResourceType", "")
    return f"resource {first['LogicalResourceId']} ({kind}) failed: {first['ResourceStatusReason']}"


def follow(aws: Aws, name: str, done: str, failed: str, *, waiter: Waiter | None = None) -> dict[str, Any]:
    sagemaker = aws.client("sagemaker")
    seen: list[str] = []

    def check() -> dict[str, Any] | None:
        project = describe(sagemaker, name)
        status = project["ProjectStatus"]
        if not seen or seen[-1] != status:
            progress(f"  project {name}: {status}")
            seen.append(status)
        if status == done:
            return project
        if status == failed:
            raise CommandError(
                f"project {name} ended {status}: {failure_detail(aws, project)}",
                fix="fix the cause named above, then `sm-mlops project delete` and create it again",
            )
        return None

    return (waiter or Waiter(f"project {name} to reach {done}")).until(check)


def held_parameters(details: dict[str, Any]) -> dict[str, str]:
    """The parameters a project was provisioned with (its ServiceCatalogProvisioningDetails)."""
    return {p["Key"]: p["Value"] for p in details.get("ProvisioningParameters", [])}


def _check_same_request(existing: dict[str, Any], product_id: str, values: dict[str, str]) -> None:
    details = existing.get("ServiceCatalogProvisioningDetails", {})
    held = held_parameters(details)
    name = existing["ProjectName"]
    changed = sorted(k for k in set(held) | set(values) if held.get(k) != values.get(k))
    if details.get("ProductId") != product_id:
        changed.insert(0, f"product ({details.get('ProductId')} -> {product_id})")
    if changed:
        raise CommandError(
            f"project {name} already exists with other values for: {', '.join(changed)}",
            field="ProjectName",
            fix=f"to change an existing project run `sm-mlops project update {name} --param Name=value`; "
            f"to create another, choose another name",
        )


def create_project(
    aws: Aws,
    name: str,
    product_id: str,
    repos: RepoOptions,
    explicit: dict[str, str],
    *,
    artifact_id: str | None = None,
    wait: bool = True,
    waiter: Waiter | None = None,
    description: str = DEFAULT_DESCRIPTION,
) -> dict[str, Any]:
    """Validate, then `create_project` with the Service Catalog details, and follow it to CreateCompleted."""
    from scripts.product_view import look_up  # the end-user API, as a Studio role has it

    check_project_name(name)
    check_description(description)
    view = look_up(aws, product_id, artifact_id)
    artifact_id, template = view.artifact_id, view.template
    values = parameters_for(template, repos, explicit)
    validate(template, name, values)
    sagemaker = aws.client("sagemaker")
    existing = _existing(sagemaker, name)
    if existing is None:
        created = sagemaker.create_project(
            **create_request(name, description, product_id, artifact_id, values)
        )
        progress(f"  project {name}: id {created['ProjectId']}")
    elif existing["ProjectStatus"] in ("Pending", "CreateInProgress", "CreateCompleted"):
        # Running the command again finishes the job: it follows a creation under way, or reports it done;
        # asked for something else, it refuses rather than report parameters the project does not have.
        _check_same_request(existing, product_id, values)
        progress(f"  project {name}: exists ({existing['ProjectId']}, {existing['ProjectStatus']})")
    else:
        raise CommandError(
            f"project {name} already exists with status {existing['ProjectStatus']}",
            field="ProjectName",
            fix=f"`sm-mlops project delete {name}` first (or choose another name), then create it again",
        )
    project = (
        follow(aws, name, "CreateCompleted", "CreateFailed", waiter=waiter)
        if wait
        else describe(sagemaker, name)
    )
    return {
        "name": name,
        "id": project["ProjectId"],
        "status": project["ProjectStatus"],
        "parameters": values,
    }


def update_project(
    aws: Aws, name: str, explicit: dict[str, str], *, waiter: Waiter | None = None
) -> dict[str, Any]:
    """Move a project to its product's newest version, keeping its parameters (and so its resources)."""
    sagemaker = aws.client("sagemaker")
    project = describe(sagemaker, name)
    details = project["ServiceCatalogProvisioningDetails"]
    product_id = details["ProductId"]
    sc = aws.client("servicecatalog")
    newest = active_artifact(sc, product_id)["Id"]

    def result(status: str) -> dict[str, Any]:
        return {
            "name": name,
            "id": project["ProjectId"],
            "status": status,
            "provisioning_artifact_id": newest,
        }

    if newest == details.get("ProvisioningArtifactId") and not explicit:
        if project["ProjectStatus"] == "UpdateInProgress":  # an update under way: running again follows it
            project = follow(aws, name, "UpdateCompleted", "UpdateFailed", waiter=waiter)
            return result(project["ProjectStatus"])
        return result("unchanged")
    template = artifact_template(aws, product_id, newest)
    values = held_parameters(details)
    values = {k: v for k, v in values.items() if k in template.get("Parameters", {})}
    values.update(explicit)
    validate(template, name, values)
    sagemaker.update_project(
        ProjectName=name,
        ServiceCatalogProvisioningUpdateDetails={
            "ProvisioningArtifactId": newest,
            "ProvisioningParameters": _provisioning_parameters(values),
        },
    )
    project = follow(aws, name, "UpdateCompleted", "UpdateFailed", waiter=waiter)
    return result(project["ProjectStatus"])


# --- status -------------------------------------------------------------------------------------------------


def _quiet(call: Any, default: Any = None) -> Any:
    try:
        return call()
    except ClientError:
        return default


def project_status(aws: Aws, name: str) -> dict[str, Any]:
    """Pipelines and their last executions, model versions and approvals, endpoints and their hourly cost."""
    sagemaker, codepipeline, cfn = (
        aws.client("sagemaker"),
        aws.client("codepipeline"),
        aws.client("cloudformation"),
    )
    project = describe(sagemaker, name)
    names = Names(name, project["ProjectId"])
    pipelines = []
    for pipeline in (names.build_pipeline, names.deploy_pipeline):
        state = _quiet(lambda p=pipeline: codepipeline.get_pipeline_state(name=p))
        if state is None:
            pipelines.append({"pipeline": pipeline, "status": "missing"})
            continue
        for stage in state.get("stageStates", []):
            latest = stage.get("latestExecution", {})
            pipelines.append(
                {"pipeline": pipeline, "stage": stage["stageName"], "status": latest.get("status", "-")}
            )
    executions = _quiet(
        lambda: sagemaker.list_pipeline_executions(PipelineName=names.sagemaker_pipeline, MaxResults=5)[
            "PipelineExecutionSummaries"
        ],
        [],
    )
    models = [
        {
            "version": str(p.get("ModelPackageVersion", "")),
            "approval": p.get("ModelApprovalStatus", ""),
            "arn": p["ModelPackageArn"],
        }
        for p in _quiet(
            lambda: paginate(
                sagemaker,
                "list_model_packages",
                "ModelPackageSummaryList",
                ModelPackageGroupName=names.model_package_group,
            ),
            [],
        )
    ]
    endpoints = []
    for stage in ("staging", "prod"):
        resources = _quiet(
            lambda s=stage: cfn.describe_stack_resources(StackName=names.deploy_stack(s))["StackResources"],
            [],
        )
        for resource in resources:
            if resource["ResourceType"] != "AWS::SageMaker::Endpoint":
                continue
            endpoints.extend(
                _endpoint_rows(sagemaker, stage, endpoint_name(resource.get("PhysicalResourceId", "")))
            )
    return {
        "project": {"name": name, "id": names.id, "status": project["ProjectStatus"]},
        "pipelines": pipelines,
        "sagemaker_pipeline_executions": [
            {"arn": e.get("PipelineExecutionArn", ""), "status": e.get("PipelineExecutionStatus", "")}
            for e in executions
        ],
        "model_versions": models,
        "endpoints": endpoints,
        "hourly_cost_usd": round(sum(e["hourly_usd"] or 0 for e in endpoints), 3),
        "price_source": PRICE_TABLE_SOURCE,
    }


def endpoint_name(physical_id: str) -> str:
    """An endpoint's name from its stack resource's physical id (CloudFormation keeps the endpoint's ARN)."""
    return physical_id.split(":endpoint/", 1)[1] if physical_id.startswith("arn:") else physical_id


def _endpoint_rows(sagemaker: Any, stage: str, endpoint: str) -> list[dict[str, Any]]:
    detail = _quiet(lambda: sagemaker.describe_endpoint(EndpointName=endpoint))
    if not detail:
        return []
    config = _quiet(
        lambda: sagemaker.describe_endpoint_config(EndpointConfigName=detail["EndpointConfigName"]), {}
    )
    rows = []
    for variant in config.get("ProductionVariants", []):
        instance = variant.get("InstanceType", "serverless")
        count = int(variant.get("InitialInstanceCount", 1))
        price = HOURLY_PRICE_USD.get(instance)
        rows.append(
            {
                "stage": stage,
                "endpoint": endpoint,
                "status": detail.get("EndpointStatus", ""),
                "instance_type": instance,
                "instances": count,
                "hourly_usd": round(price * count, 3) if price is not None else None,
            }
        )
    return rows
