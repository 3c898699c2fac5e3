"""Service Catalog's end-user API on the stand-in answers each caller for the portfolios it is a principal of,
as IAM knows the caller from the request's credentials: to anyone else the product does not exist."""

import pytest
from botocore.exceptions import ClientError

from demo.account import create_studio_role

SMALL = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Suffix:
    Type: String
    AllowedPattern: ^[a-z0-9-]+$
    MinLength: 2
    MaxLength: 20
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      # sagemaker-*: the only buckets AWS's launch role may create
      BucketName: !Sub 'sagemaker-sc-user-${Suffix}'
"""
ACCOUNT = "123456789012"


def _code(call, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_a_principal_sees_the_product_and_its_launch_path(standin, registered, as_role):
    ids = registered(SMALL)
    sc = as_role("servicecatalog", ids["studio_role"])
    (found,) = sc.search_products()["ProductViewSummaries"]
    assert found["ProductId"] == ids["product_id"]
    (path,) = sc.list_launch_paths(ProductId=ids["product_id"])["LaunchPathSummaries"]
    described = sc.describe_product(Id=ids["product_id"])
    assert [a["Id"] for a in described["ProvisioningArtifacts"]] == [ids["artifact_id"]]
    assert described["LaunchPaths"] == [{"Id": path["Id"], "Name": path["Name"]}]
    (parameter,) = sc.describe_provisioning_parameters(
        ProductId=ids["product_id"], ProvisioningArtifactId=ids["artifact_id"], PathId=path["Id"]
    )["ProvisioningArtifactParameters"]
    constraints = parameter["ParameterConstraints"]
    assert (constraints["MinLength"], constraints["MaxLength"]) == ("2", "20")


@pytest.mark.parametrize("who", ["the admin's own keys", "another role"])
def test_a_caller_that_is_no_principal_sees_no_product(standin, registered, as_role, who):
    ids = registered(SMALL)
    if who == "another role":
        other = create_studio_role(standin.client("iam"), ACCOUNT, "Other")
        sc = as_role("servicecatalog", other)
    else:
        sc = standin.client("servicecatalog")
    product = ids["product_id"]
    assert sc.search_products()["ProductViewSummaries"] == []
    assert _code(sc.list_launch_paths, ProductId=product)[0] == "ResourceNotFoundException"
    assert _code(sc.describe_product, Id=product)[0] == "ResourceNotFoundException"
    assert (
        _code(
            sc.describe_provisioning_parameters, ProductId=product, ProvisioningArtifactId=ids["artifact_id"]
        )[0]
        == "ResourceNotFoundException"
    )
    code, message = _code(
        sc.provision_product,
        ProductId=product,
        ProvisioningArtifactId=ids["artifact_id"],
        ProvisionedProductName="nope",
        ProvisioningParameters=[{"Key": "Suffix", "Value": "one"}],
        ProvisionToken="t1",
    )
    assert code == "ResourceNotFoundException" and "No launch paths found" in message
    sagemaker = as_role("sagemaker", other) if who == "another role" else standin.client("sagemaker")
    code, message = _code(
        sagemaker.create_project,
        ProjectName="nope",
        ServiceCatalogProvisioningDetails={
            "ProductId": product,
            "ProvisioningArtifactId": ids["artifact_id"],
        },
    )
    assert "No launch paths found" in message
    assert standin.client("cloudformation").describe_stacks()["Stacks"] == []


def test_a_principal_pattern_matches_roles_by_name(standin, registered, as_role):
    ids = registered(SMALL)
    iam = standin.client("iam")
    role = create_studio_role(iam, ACCOUNT, "team-ds-alice", path="/ds/")
    sc = as_role("servicecatalog", role)
    assert sc.search_products()["ProductViewSummaries"] == []
    standin.client("servicecatalog").associate_principal_with_portfolio(
        PortfolioId=ids["portfolio_id"],
        PrincipalARN="arn:aws:iam:::role/ds/team-ds-*",
        PrincipalType="IAM_PATTERN",
    )
    assert [p["ProductId"] for p in sc.search_products()["ProductViewSummaries"]] == [ids["product_id"]]
