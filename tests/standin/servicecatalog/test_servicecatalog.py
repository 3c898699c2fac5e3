"""Service Catalog on the stand-in: registration as `sm-mlops register` does it, provisioning, refusals."""

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from standin.testing import wait_for

REPO = Path(__file__).resolve().parents[3]

SMALL = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  BucketSuffix:
    Type: String
    AllowedPattern: ^[a-z0-9-]+$
    ConstraintDescription: lowercase letters, digits and hyphens
    MaxLength: 20
  Mode:
    Type: String
    AllowedValues: ['a', 'b']
    Default: a
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      # sagemaker-*: the only buckets AWS's launch role may create
      BucketName: !Sub 'sagemaker-sc-test-${BucketSuffix}'
Outputs:
  BucketName:
    Value: !Ref Bucket
"""
V1 = (REPO / "templates" / "mlops-third-party-git-v1.yaml").read_text()
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
GOOD_V1 = {
    "SageMakerProjectName": "demo",
    "SageMakerProjectId": "p-abcdef123456",
    "ModelBuildCodeRepositoryUrl": "https://github.com/octo/build.git",
    "ModelBuildCodeRepositoryFullname": "octo/build",
    "ModelBuildCodeRepositoryCodestarConnectionArn": CONNECTION,
    "ModelDeployCodeRepositoryUrl": "https://github.com/octo/deploy.git",
    "ModelDeployCodeRepositoryFullname": "octo/deploy",
    "ModelDeployCodeRepositoryCodestarConnectionArn": CONNECTION,
}


def _wait_record(sc, record_id, timeout=60):
    def done():
        detail = sc.describe_record(Id=record_id)
        return None if detail["RecordDetail"]["Status"] in ("CREATED", "IN_PROGRESS") else detail

    return wait_for(done, timeout, f"record {record_id} to leave CREATED/IN_PROGRESS")


def test_registration_sequence_is_answered_and_studio_sees_the_product(standin, registered, as_role):
    ids = registered(SMALL)
    sc = standin.client("servicecatalog")
    studio = as_role("servicecatalog", ids["studio_role"])  # a principal: the end-user API answers it
    assert ids["artifact_id"].startswith("pa-")
    admin = sc.describe_product_as_admin(Id=ids["product_id"])
    assert {"Key": "sagemaker:studio-visibility", "Value": "true"} in admin["Tags"]
    assert [a["Id"] for a in admin["ProvisioningArtifactSummaries"]] == [ids["artifact_id"]]
    found = sc.search_products_as_admin(PortfolioId=ids["portfolio_id"])["ProductViewDetails"]
    assert [p["ProductViewSummary"]["ProductId"] for p in found] == [ids["product_id"]]
    assert [p["ProductId"] for p in studio.search_products()["ProductViewSummaries"]] == [ids["product_id"]]
    constraints = sc.list_constraints_for_portfolio(PortfolioId=ids["portfolio_id"])["ConstraintDetails"]
    assert [c["Type"] for c in constraints] == ["LAUNCH"]
    described = sc.describe_constraint(Id=constraints[0]["ConstraintId"])
    assert json.loads(described["ConstraintParameters"]) == {"RoleArn": ids["launch_role"]}
    principals = sc.list_principals_for_portfolio(PortfolioId=ids["portfolio_id"])["Principals"]
    assert principals == [{"PrincipalARN": ids["studio_role"], "PrincipalType": "IAM"}]
    portfolios = sc.list_portfolios_for_product(ProductId=ids["product_id"])["PortfolioDetails"]
    assert [p["Id"] for p in portfolios] == [ids["portfolio_id"]]
    paths = studio.list_launch_paths(ProductId=ids["product_id"])["LaunchPathSummaries"]
    assert len(paths) == 1 and paths[0]["ConstraintSummaries"][0]["Type"] == "LAUNCH"
    product = studio.describe_product(Id=ids["product_id"])
    assert product["LaunchPaths"][0]["Id"] == paths[0]["Id"]


def test_new_version_deprecates_the_old_one(standin, registered):
    ids = registered(SMALL)
    sc = standin.client("servicecatalog")
    url = f"https://s3.{standin.region}.amazonaws.com/{ids['bucket']}/{ids['template_key']}"  # path style
    new = sc.create_provisioning_artifact(
        ProductId=ids["product_id"],
        Parameters={"Name": "v2", "Info": {"LoadTemplateFromURL": url}, "Type": "CLOUD_FORMATION_TEMPLATE"},
        IdempotencyToken="v2",
    )["ProvisioningArtifactDetail"]
    sc.update_provisioning_artifact(
        ProductId=ids["product_id"], ProvisioningArtifactId=ids["artifact_id"], Guidance="DEPRECATED"
    )
    listed = sc.list_provisioning_artifacts(ProductId=ids["product_id"])["ProvisioningArtifactDetails"]
    assert [(a["Name"], a["Guidance"]) for a in listed] == [("v1", "DEPRECATED"), ("v2", "DEFAULT")]
    detail = sc.describe_provisioning_artifact(
        ProductId=ids["product_id"],
        ProvisioningArtifactId=new["Id"],
        IncludeProvisioningArtifactParameters=True,
    )
    assert {p["ParameterKey"] for p in detail["ProvisioningArtifactParameters"]} == {"BucketSuffix", "Mode"}
    sc.delete_provisioning_artifact(ProductId=ids["product_id"], ProvisioningArtifactId=ids["artifact_id"])
    with pytest.raises(ClientError, match="last one"):
        sc.delete_provisioning_artifact(ProductId=ids["product_id"], ProvisioningArtifactId=new["Id"])


def _error(call, **kwargs):
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    return error.value.response["Error"]


def test_launch_constraint_needs_a_role_that_trusts_service_catalog(standin, registered):
    ids = registered(SMALL)
    sc, iam = standin.client("servicecatalog"), standin.client("iam")
    sc.delete_constraint(
        Id=sc.list_constraints_for_portfolio(PortfolioId=ids["portfolio_id"])["ConstraintDetails"][0][
            "ConstraintId"
        ]
    )
    missing = f"arn:aws:iam::{standin.account_id}:role/NoSuchRole"
    common = {"PortfolioId": ids["portfolio_id"], "ProductId": ids["product_id"], "Type": "LAUNCH"}
    error = _error(sc.create_constraint, Parameters=json.dumps({"RoleArn": missing}), **common)
    assert error["Code"] == "InvalidParametersException" and "NoSuchRole" in error["Message"]
    error = _error(sc.create_constraint, Parameters=json.dumps({"RoleArn": ids["studio_role"]}), **common)
    assert "servicecatalog.amazonaws.com" in error["Message"]
    sc.create_constraint(Parameters=json.dumps({"RoleArn": ids["launch_role"]}), **common)
    assert iam.get_role(RoleName="AmazonSageMakerServiceCatalogProductsLaunchRole")


def test_create_product_refuses_a_template_that_is_not_in_s3(standin):
    sc = standin.client("servicecatalog")
    error = _error(
        sc.create_product,
        Name="x",
        Owner="o",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters={
            "Info": {"LoadTemplateFromURL": "https://nobucket.s3.amazonaws.com/t.yaml"}
        },
    )
    assert error["Code"] == "InvalidParametersException" and "LoadTemplateFromURL" in error["Message"]
    assert sc.search_products_as_admin()["ProductViewDetails"] == []


def test_provision_creates_a_stack_and_terminate_deletes_it(standin, registered, as_role):
    ids = registered(SMALL)
    sc, cfn = as_role("servicecatalog", ids["studio_role"]), standin.client("cloudformation")
    record = sc.provision_product(
        ProductId=ids["product_id"],
        ProvisioningArtifactId=ids["artifact_id"],
        ProvisionedProductName="small",
        ProvisioningParameters=[{"Key": "BucketSuffix", "Value": "one"}],
        ProvisionToken="t1",
    )["RecordDetail"]
    done = _wait_record(sc, record["RecordId"])
    assert done["RecordDetail"]["Status"] == "SUCCEEDED", done
    assert {"OutputKey": "BucketName", "OutputValue": "sagemaker-sc-test-one", "Description": ""} in done[
        "RecordOutputs"
    ]
    pp = sc.describe_provisioned_product(Name="small")["ProvisionedProductDetail"]
    assert pp["Status"] == "AVAILABLE" and pp["LaunchRoleArn"] == ids["launch_role"]
    stack_name = f"SC-{standin.account_id}-{pp['Id']}"
    assert cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert "sagemaker-sc-test-one" in [b["Name"] for b in standin.client("s3").list_buckets()["Buckets"]]
    attributes = sc.search_provisioned_products(Filters={"SearchQuery": ["name:small"]})[
        "ProvisionedProducts"
    ]
    assert [a["PhysicalId"] for a in attributes] == [
        cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
    ]
    assert [p["Id"] for p in sc.scan_provisioned_products()["ProvisionedProducts"]] == [pp["Id"]]

    updated = sc.update_provisioned_product(
        ProvisionedProductId=pp["Id"],
        ProvisioningArtifactId=ids["artifact_id"],
        ProvisioningParameters=[
            {"Key": "BucketSuffix", "UsePreviousValue": True},
            {"Key": "Mode", "Value": "b"},
        ],
        UpdateToken="u1",
    )["RecordDetail"]
    assert _wait_record(sc, updated["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"

    gone = sc.terminate_provisioned_product(ProvisionedProductId=pp["Id"], TerminateToken="x")["RecordDetail"]
    assert _wait_record(sc, gone["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    assert sc.scan_provisioned_products()["ProvisionedProducts"] == []
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName=stack_name)


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        ("SageMakerProjectName", "has space", "does not match"),
        ("SageMakerProjectName", "a" * 33, "longer than 32"),
        ("ModelBuildCodeRepositoryIsSeedcodeRequired", "yes", "allowed values"),
        ("ModelDeployCodeRepositoryCodestarConnectionArn", "arn:short", "shorter than 60"),
        ("ModelBuildCodeRepositoryUrl", None, "required"),
        ("UnknownParameter", "x", "no such parameter"),
    ],
    ids=["pattern", "max-length", "allowed-values", "min-length", "missing", "unknown"],
)
def test_bad_parameter_refused_naming_it_before_anything_exists(
    standin, registered, as_role, parameter, value, expected
):
    ids = registered(V1)
    sc = as_role("servicecatalog", ids["studio_role"])
    values = dict(GOOD_V1)
    if value is None:
        values.pop(parameter)
    else:
        values[parameter] = value
    error = _error(
        sc.provision_product,
        ProductId=ids["product_id"],
        ProvisioningArtifactId=ids["artifact_id"],
        ProvisionedProductName="bad",
        ProvisioningParameters=[{"Key": k, "Value": v} for k, v in values.items()],
        ProvisionToken="bad",
    )
    assert error["Code"] == "InvalidParametersException"
    assert f"Parameter '{parameter}'" in error["Message"] and expected in error["Message"]
    assert standin.client("cloudformation").describe_stacks()["Stacks"] == []
    assert sc.scan_provisioned_products()["ProvisionedProducts"] == []
