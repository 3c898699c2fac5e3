"""SageMaker's code repository API as the stand-in answers it (moto has none)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

GIT = {"RepositoryUrl": "https://github.com/octo/build.git", "Branch": "main"}


def test_create_describe_list_delete(standin) -> None:
    sagemaker = standin.client("sagemaker")
    arn = sagemaker.create_code_repository(CodeRepositoryName="octo-build", GitConfig=GIT)[
        "CodeRepositoryArn"
    ]
    assert arn == f"arn:aws:sagemaker:{standin.region}:{standin.account_id}:code-repository/octo-build"
    described = sagemaker.describe_code_repository(CodeRepositoryName="octo-build")
    assert described["GitConfig"] == GIT
    sagemaker.create_code_repository(CodeRepositoryName="octo-deploy", GitConfig=GIT)
    listed = sagemaker.list_code_repositories(NameContains="build")["CodeRepositorySummaryList"]
    assert [r["CodeRepositoryName"] for r in listed] == ["octo-build"]
    sagemaker.delete_code_repository(CodeRepositoryName="octo-build")
    with pytest.raises(ClientError) as error:
        sagemaker.describe_code_repository(CodeRepositoryName="octo-build")
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot find CodeRepository with name octo-build" in error.value.response["Error"]["Message"]


def test_a_bad_name_is_refused(standin) -> None:
    with pytest.raises(ClientError) as error:
        standin.client("sagemaker").create_code_repository(CodeRepositoryName="-bad", GitConfig=GIT)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "letters, digits and hyphens" in error.value.response["Error"]["Message"]
