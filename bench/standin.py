"""Figures of the stand-in: start-up time (in-process and `python -m standin`), the registration sequence."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from standin.server import StandIn

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "templates" / "mlops-third-party-git-v1.yaml"


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def _registration(aws: StandIn) -> None:
    s3, sc, iam = aws.client("s3"), aws.client("servicecatalog"), aws.client("iam")
    bucket = f"sagemaker-mlops-assets-{aws.account_id}-{aws.region}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="templates/v1.yaml", Body=TEMPLATE.read_bytes())
    role = iam.create_role(RoleName="Launch", AssumeRolePolicyDocument=_trust("servicecatalog.amazonaws.com"))
    portfolio = sc.create_portfolio(DisplayName="MLOps", ProviderName="bench")["PortfolioDetail"]["Id"]
    product = sc.create_product(
        Name="mlops",
        Owner="bench",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters={
            "Info": {
                "LoadTemplateFromURL": f"https://{bucket}.s3.{aws.region}.amazonaws.com/templates/v1.yaml"
            }
        },
        Tags=[{"Key": "sagemaker:studio-visibility", "Value": "true"}],
    )["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    sc.associate_product_with_portfolio(ProductId=product, PortfolioId=portfolio)
    sc.create_constraint(
        PortfolioId=portfolio,
        ProductId=product,
        Type="LAUNCH",
        Parameters=json.dumps({"RoleArn": role["Role"]["Arn"]}),
    )
    sc.associate_principal_with_portfolio(
        PortfolioId=portfolio, PrincipalARN=role["Role"]["Arn"], PrincipalType="IAM"
    )


def run() -> list[tuple[str, str]]:
    rows = []
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "standin"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        for line in process.stdout or []:
            if line.startswith("#"):
                break
        rows.append(("python -m standin, launch to exports printed", f"{time.perf_counter() - began:.2f} s"))
    finally:
        process.terminate()
        process.wait(timeout=20)
    with StandIn() as aws:
        rows.append(("StandIn.start() in-process (moto imported)", f"{aws.started_seconds:.2f} s"))
        timings = []
        for _ in range(3):
            aws.reset()
            started = time.perf_counter()
            _registration(aws)
            timings.append(time.perf_counter() - started)
        rows.append(("registration sequence (REFERENCE 6), best of 3", f"{min(timings) * 1000:.0f} ms"))
    return rows
