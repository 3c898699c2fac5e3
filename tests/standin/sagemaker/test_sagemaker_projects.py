"""SageMaker projects from a registered product, as Studio creates them (the walkthrough's v1 template)."""

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from standin.testing import wait_for

REPO = Path(__file__).resolve().parents[3]
V1 = (REPO / "templates" / "mlops-third-party-git-v1.yaml").read_text()


def _wait_project(sm, name, timeout=120):
    """The project once its status is no longer Pending or in progress."""

    def settled():
        project = sm.describe_project(ProjectName=name)
        return None if project["ProjectStatus"].endswith(("InProgress", "Pending")) else project

    return wait_for(settled, timeout, f"project {name} to leave Pending/InProgress", interval=0.2)


def _parameters(standin, seed: str):
    """The v1 form's values; the service roles the template names exist (`registered` ran bootstrap)."""
    arn = standin.client("codeconnections").create_connection(ProviderType="GitHub", ConnectionName="gh")[
        "ConnectionArn"
    ]
    standin.admin.authorize_connection(arn)
    values = {
        "ModelBuildCodeRepositoryUrl": "https://github.com/octo/build.git",
        "ModelBuildCodeRepositoryFullname": "octo/build",
        "ModelBuildCodeRepositoryCodestarConnectionArn": arn,
        "ModelBuildCodeRepositoryIsSeedcodeRequired": seed,
        "ModelDeployCodeRepositoryUrl": "https://github.com/octo/deploy.git",
        "ModelDeployCodeRepositoryFullname": "octo/deploy",
        "ModelDeployCodeRepositoryCodestarConnectionArn": arn,
        "ModelDeployCodeRepositoryIsSeedcodeRequired": seed,
    }
    return [{"Key": k, "Value": v} for k, v in values.items()]


def test_portfolio_enablement(standin):
    sm = standin.client("sagemaker")
    assert sm.get_sagemaker_servicecatalog_portfolio_status()["Status"] == "Disabled"
    sm.enable_sagemaker_servicecatalog_portfolio()
    assert sm.get_sagemaker_servicecatalog_portfolio_status()["Status"] == "Enabled"


def test_create_project_completes_with_repositories_pipelines_and_rule_then_delete_removes_stack(
    standin, registered, as_role
):
    ids = registered(V1)
    sm = as_role("sagemaker", ids["studio_role"])  # a data scientist's Studio role, a portfolio principal
    created = sm.create_project(
        ProjectName="churn",
        ServiceCatalogProvisioningDetails={
            "ProductId": ids["product_id"],
            "ProvisioningArtifactId": ids["artifact_id"],
            "ProvisioningParameters": _parameters(standin, "false"),
        },
    )
    assert created["ProjectId"].startswith("p-") and len(created["ProjectId"]) == 14
    project = _wait_project(sm, "churn")
    assert project["ProjectStatus"] == "CreateCompleted", project.get(
        "ServiceCatalogProvisionedProductDetails"
    )
    pp_id = project["ServiceCatalogProvisionedProductDetails"]["ProvisionedProductId"]
    stack_name = f"SC-{standin.account_id}-{pp_id}"
    cfn = standin.client("cloudformation")
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
    assert tags["sagemaker:project-name"] == "churn" and tags["sagemaker:project-id"] == created["ProjectId"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["SageMakerProjectId"] == created["ProjectId"]
    pid = created["ProjectId"]
    repositories = {r["CodeRepositoryName"] for r in sm.list_code_repositories()["CodeRepositorySummaryList"]}
    assert {f"sagemaker-{pid}-modelbuild", f"sagemaker-{pid}-modeldeploy"} == repositories
    pipelines = {p["name"] for p in standin.client("codepipeline").list_pipelines()["pipelines"]}
    assert len([p for p in pipelines if pid in p]) == 2, pipelines
    assert any("modelbuild" in p for p in pipelines) and any("modeldeploy" in p for p in pipelines), pipelines
    rules = [r["Name"] for r in standin.client("events").list_rules()["Rules"]]
    assert len([r for r in rules if pid in r]) == 1, rules
    assert [p["ProjectName"] for p in sm.list_projects()["ProjectSummaryList"]] == ["churn"]

    sm.delete_project(ProjectName="churn")
    assert _wait_project(sm, "churn")["ProjectStatus"] == "DeleteCompleted"
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName=stack_name)
    # Deleting the stack keeps the retained artifact bucket, as on AWS.
    buckets = [b["Name"] for b in standin.client("s3").list_buckets()["Buckets"]]
    assert any(pid in b for b in buckets), buckets


def test_create_project_refuses_bad_parameters_naming_them(standin, registered, as_role):
    ids = registered(V1)
    sm = as_role("sagemaker", ids["studio_role"])
    parameters = _parameters(standin, "maybe")
    with pytest.raises(ClientError) as error:
        sm.create_project(
            ProjectName="churn",
            ServiceCatalogProvisioningDetails={
                "ProductId": ids["product_id"],
                "ProvisioningArtifactId": ids["artifact_id"],
                "ProvisioningParameters": parameters,
            },
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "ModelBuildCodeRepositoryIsSeedcodeRequired" in error.value.response["Error"]["Message"]
    assert sm.list_projects()["ProjectSummaryList"] == []
    with pytest.raises(ClientError, match="has space"):
        sm.create_project(
            ProjectName="has space", ServiceCatalogProvisioningDetails={"ProductId": ids["product_id"]}
        )


@pytest.mark.parametrize(
    ("member", "value", "field", "constraint"),
    [
        (
            "ProjectName",
            "-dash",
            "projectName",
            "regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}",
        ),
        ("ProjectName", "a" * 33, "projectName", "length less than or equal to 32"),
        ("ProjectDescription", "d" * 1025, "projectDescription", "length less than or equal to 1024"),
    ],
)
def test_create_project_checks_what_the_api_model_says(standin, member, value, field, constraint):
    """The constraints come from the service model, in the API's own words, before anything is provisioned."""
    request = {
        "ProjectName": "churn",
        "ServiceCatalogProvisioningDetails": {"ProductId": "prod-x"},
        member: value,
    }
    with pytest.raises(ClientError) as error:
        standin.client("sagemaker").create_project(**request)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert error.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
        f"Member must have {constraint}"
        if "length" in constraint
        else f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
        f"Member must satisfy {constraint}"
    )
