"""The stand-in's tests register products as an admin does: through `sm-mlops`' own bootstrap and register."""

from pathlib import Path

import boto3
import pytest

from demo.account import register_product

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def registered(request, tmp_path, cached_assets):
    """A factory: register a template body as a product on the (reset) stand-in; returns the ids made.

    The ids: bucket, portfolio_id, product_id, artifact_id, template_key, launch_role, studio_role."""
    standin = request.getfixturevalue("standin")

    def register(body: str, name: str = "product") -> dict:
        path = tmp_path / f"{name}.yaml"
        path.write_text(body)
        return register_product(standin, path).as_dict()

    return register


@pytest.fixture
def as_role(standin):
    """A factory of clients working as a role (a Studio execution role, say): the admin's `sts:AssumeRole`
    session, as a data scientist's requests carry it."""

    def client(service: str, role_arn: str):
        credentials = standin.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="studio-user")[
            "Credentials"
        ]
        return boto3.client(
            service,
            endpoint_url=standin.endpoint_url,
            region_name=standin.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    return client
