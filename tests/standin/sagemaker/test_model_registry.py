"""Deleting model versions and groups, which clean-up needs and moto lacks."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

GROUP = "abalone-p-abcdef123456"


def register_version(sagemaker) -> str:
    return sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgboost:3.0-5", "ModelDataUrl": "s3://bucket/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]


def test_a_group_is_deleted_only_once_its_versions_are(standin) -> None:
    sagemaker = standin.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    first, second = register_version(sagemaker), register_version(sagemaker)

    with pytest.raises(ClientError, match="still holds 2 model package"):
        sagemaker.delete_model_package_group(ModelPackageGroupName=GROUP)

    sagemaker.delete_model_package(ModelPackageName=first)
    left = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in left] == [second]
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.delete_model_package(ModelPackageName=first)

    sagemaker.delete_model_package(ModelPackageName=second)
    sagemaker.delete_model_package_group(ModelPackageGroupName=GROUP)
    groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert GROUP not in [g["ModelPackageGroupName"] for g in groups]
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.delete_model_package_group(ModelPackageGroupName=GROUP)
