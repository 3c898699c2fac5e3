"""An account as its admin prepares it, on a stand-in, through `sm-mlops`' own code.

The walkthrough runs the commands as a user does (subprocesses with the stand-in's environment); tests and
the bench that need a registered product call the same functions in-process: `bootstrap`'s roles
(`scripts.iam_roles.ensure_roles`) and `register` (`scripts.servicecatalog.register`), with a session
pointed at the stand-in without touching `os.environ`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session

from permissions.trust import trust_policy
from scripts.common import Aws
from scripts.iam_roles import ensure_roles
from scripts.servicecatalog import RegisterOptions, Registration, asset_bucket_name, register

# A Studio user's execution role: trusted by SageMaker only (never by Service Catalog).
STUDIO_ROLE_NAME = "AmazonSageMakerStudioExecution"
STUDIO_ROLE_POLICY = "AmazonSageMakerFullAccess"
LAUNCH_ROLE_NAME = "AmazonSageMakerServiceCatalogProductsLaunchRole"


def commands_session(standin: Any) -> Aws:
    """The `Aws` object `sm-mlops` uses, pointed at ``standin`` (its endpoint, region and test keys).

    The endpoint comes from a config file of its own, as a user's profile would set it (botocore reads a
    configured ``endpoint_url`` from the environment or the config file only)."""
    config = Path(standin.state_dir) / "commands-aws-config"
    config.write_text(f"[default]\nregion = {standin.region}\nendpoint_url = {standin.endpoint_url}\n")
    core = botocore.session.Session()
    core.set_config_variable("config_file", str(config))
    core.set_config_variable("profile", "default")
    core.set_credentials("testing", "testing")
    return Aws(boto3.session.Session(botocore_session=core))


def as_role(aws: Aws, role_arn: str, session_name: str = "data-scientist") -> Aws:
    """The `Aws` object of someone working as ``role_arn`` (a Studio user's execution role, say): the same
    endpoint, region and config as ``aws``, with the temporary credentials of an `sts:AssumeRole` session."""
    credentials = aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    core = botocore.session.Session()
    for name in ("config_file", "profile"):
        value = aws.session._session.get_config_variable(name)
        if value is not None:
            core.set_config_variable(name, value)
    core.set_credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    return Aws(boto3.session.Session(botocore_session=core, region_name=aws.region))


def create_studio_role(iam: Any, account: str, name: str, path: str = "/") -> str:
    """A Studio execution role as Studio's quick setup makes it (trusted by sagemaker.amazonaws.com, with
    AmazonSageMakerFullAccess), also trusted by the account: the demo and tests stand in for Studio, which
    assumes the role for its user. Returns its ARN."""
    trust = trust_policy(["sagemaker.amazonaws.com"], accounts=[account])
    role = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{STUDIO_ROLE_POLICY}")
    return str(role["Arn"])


def studio_role(aws: Aws, name: str = STUDIO_ROLE_NAME) -> str:
    """The Studio execution role ``name``, made if missing; returns its ARN."""
    iam = aws.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return create_studio_role(iam, aws.account, name)


@dataclass
class Registered:
    """What `bootstrap` and `register` made: the ids a test or benchmark goes on with."""

    bucket: str
    portfolio_id: str
    product_id: str
    artifact_id: str
    template_key: str
    launch_role: str
    studio_role: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def register_product(standin: Any, template: Path, aws: Aws | None = None) -> Registered:
    """`sm-mlops bootstrap` (the Service Catalog role family) and `register --template-file`, in-process."""
    aws = aws or commands_session(standin)
    ensure_roles(aws, "service-catalog")
    studio = studio_role(aws)
    done: Registration = register(aws, RegisterOptions(template_file=template, studio_role_arns=[studio]))
    if not (done.portfolio_id and done.product_id and done.artifact_id and done.template_url):
        raise RuntimeError(f"register did not finish: {done.actions}")
    launch = aws.client("iam").get_role(RoleName=LAUNCH_ROLE_NAME)["Role"]["Arn"]
    return Registered(
        bucket=asset_bucket_name(aws.account, aws.region),
        portfolio_id=done.portfolio_id,
        product_id=done.product_id,
        artifact_id=done.artifact_id,
        template_key=done.template_url.split(".amazonaws.com/", 1)[1],
        launch_role=str(launch),
        studio_role=studio,
    )
