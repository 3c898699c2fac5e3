"""What the scripts' stand-in tests share: the Studio role, a fast waiter, a project without seed code."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from scripts import projects
from scripts.common import Aws, Waiter
from scripts.iam_roles import ensure_roles, trust_policy
from scripts.projects import Names, RepoOptions

STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-test"


def fast() -> Waiter:
    return Waiter("the project", timeout=120, interval=0.3, max_interval=1.0)


def prepare(aws: Aws) -> Aws:
    """The service roles `bootstrap` makes and a Studio execution role, as an admin's account has them."""
    ensure_roles(aws, "service-catalog")
    trust = json.dumps(trust_policy(["sagemaker.amazonaws.com"]))
    aws.client("iam").create_role(RoleName=STUDIO_ROLE_NAME, AssumeRolePolicyDocument=trust)
    return aws


def studio_role(aws: Aws) -> str:
    return f"arn:aws:iam::{aws.account}:role/{STUDIO_ROLE_NAME}"


def new_connection(aws: Aws) -> str:
    arn = aws.client("codestar-connections").create_connection(
        ProviderType="GitHub", ConnectionName="test", Tags=[{"Key": "sagemaker", "Value": "true"}]
    )["ConnectionArn"]
    return str(arn)


def repos(name: str, connection: str) -> RepoOptions:
    return RepoOptions(
        build_repo=f"acme/{name}-build",
        deploy_repo=f"acme/{name}-deploy",
        connection_arn=connection,
        seed_build=False,
        seed_deploy=False,
    )


def create(aws: Aws, product_id: str, name: str, connection: str) -> dict[str, Any]:
    return projects.create_project(aws, name, product_id, repos(name, connection), {}, waiter=fast())


def bucket_settings(s3: Any, bucket: str) -> dict[str, Any]:
    """What AWS answers for each of the asset bucket's settings (None: not set)."""

    def read(call: Any, *path: str) -> Any:
        try:
            answer = call(Bucket=bucket)
        except ClientError:
            return None
        for key in path:
            answer = answer.get(key, {}) if isinstance(answer, dict) else answer
        return answer

    return {
        "encryption": read(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration", "Rules"),
        "public access block": read(s3.get_public_access_block, "PublicAccessBlockConfiguration"),
        "ownership": read(s3.get_bucket_ownership_controls, "OwnershipControls", "Rules"),
        "versioning": read(s3.get_bucket_versioning, "Status"),
        "policy": read(s3.get_bucket_policy, "Policy"),
    }


def register_model_version(aws: Aws, names: Names) -> None:
    """What the seed's SageMaker pipeline registers: a group and a version pending approval."""
    sagemaker = aws.client("sagemaker")
    groups = sagemaker.list_model_package_groups(NameContains=names.model_package_group)
    if not groups["ModelPackageGroupSummaryList"]:
        sagemaker.create_model_package_group(ModelPackageGroupName=names.model_package_group)
    sagemaker.create_model_package(
        ModelPackageGroupName=names.model_package_group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
