import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
LAUNCH_ROLE = "AmazonSageMakerServiceCatalogProductsLaunchRole"
STUDIO_ROLE = "AmazonSageMakerStudioExecution"


def _role(iam, name, service):
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def register(aws, template_body: str, key: str = "templates/product.yaml") -> dict:
    """What `sm-mlops register` does, with plain boto3. Returns the ids made."""
    region, account = aws.region, aws.account_id
    s3, sc, iam = aws.client("s3"), aws.client("servicecatalog"), aws.client("iam")
    bucket = f"sagemaker-mlops-assets-{account}-{region}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=template_body.encode())
    launch_role = _role(iam, LAUNCH_ROLE, "servicecatalog.amazonaws.com")
    studio_role = _role(iam, STUDIO_ROLE, "sagemaker.amazonaws.com")
    portfolio = sc.create_portfolio(DisplayName="MLOps", ProviderName="platform", IdempotencyToken="p1")
    portfolio_id = portfolio["PortfolioDetail"]["Id"]
    product = sc.create_product(
        Name="mlops-third-party-git",
        Owner="platform",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters={
            "Name": "v1",
            "Info": {"LoadTemplateFromURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"},
            "Type": "CLOUD_FORMATION_TEMPLATE",
        },
        Tags=[{"Key": "sagemaker:studio-visibility", "Value": "true"}],
        IdempotencyToken="prod1",
    )
    product_id = product["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    artifact_id = product["ProvisioningArtifactDetail"]["Id"]
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    for _ in range(5):  # the retry AWS needs while IAM propagates; the stand-in answers at once
        try:
            sc.create_constraint(
                PortfolioId=portfolio_id,
                ProductId=product_id,
                Type="LAUNCH",
                Parameters=json.dumps({"RoleArn": launch_role}),
                IdempotencyToken="c1",
            )
            break
        except ClientError:
            time.sleep(0.2)
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio_id, PrincipalARN=studio_role, PrincipalType="IAM"
    )
    return {
        "bucket": bucket,
        "portfolio_id": portfolio_id,
        "product_id": product_id,
        "artifact_id": artifact_id,
        "launch_role": launch_role,
        "studio_role": studio_role,
    }


@pytest.fixture
def registered(request):
    """A factory: register a template body as a product on the (reset) stand-in; returns the ids."""
    aws = request.getfixturevalue("standin")
    return lambda body, key="templates/product.yaml": register(aws, body, key)
