"""The stand-in refuses, at its one authorisation point, what IAM refuses a principal, in AWS's words."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from standin.iam import actions, s3_actions

ACCOUNT = "123456789012"


def _policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def user(standin):
    """A factory: an IAM user with one inline policy; returns a client factory signed with its key."""

    def make(*statements, name="alice"):
        iam = standin.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=_policy(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return lambda service: boto3.client(
            service,
            endpoint_url=standin.endpoint_url,
            region_name=standin.region,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )

    return make


def _refusal(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def test_no_allow_is_refused_in_iams_words_with_each_protocols_code(user):
    client = user({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    client("s3").list_buckets()
    arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    json_error = _refusal(lambda: client("sagemaker").list_projects())
    assert json_error["Code"] == "AccessDeniedException"
    assert json_error["Message"] == (
        f"User: {arn} is not authorized to perform: sagemaker:ListProjects on resource: * "
        "because no identity-based policy allows the sagemaker:ListProjects action"
    )
    assert _refusal(lambda: client("iam").list_roles())["Code"] == "AccessDenied"
    s3_error = _refusal(lambda: client("s3").create_bucket(Bucket="b-1"))
    assert s3_error["Code"] == "AccessDenied"
    assert (
        "s3:CreateBucket on resource: arn:aws:s3:::b-1 because no identity-based policy"
        in s3_error["Message"]
    )


def test_an_explicit_deny_wins_and_says_so(user):
    client = user(
        {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:PutObject"], "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b-1/secret/*"},
    )
    s3 = client("s3")
    s3.create_bucket(Bucket="b-1")
    s3.put_object(Bucket="b-1", Key="open/a", Body=b"x")
    error = _refusal(lambda: s3.put_object(Bucket="b-1", Key="secret/a", Body=b"x"))
    assert error["Message"].endswith("with an explicit deny in an identity-based policy")


def test_a_bucket_policy_grants_and_denies_beside_identity_policies(standin, user):
    client = user({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b-1/mine/*"})
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    admin_s3 = standin.client("s3")
    admin_s3.create_bucket(Bucket="b-1")
    admin_s3.put_object(Bucket="b-1", Key="shared/a", Body=b"x")
    admin_s3.put_bucket_policy(
        Bucket="b-1",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": alice},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b-1/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b-1/mine/locked",
            },
        ),
    )
    s3 = client("s3")
    assert s3.get_object(Bucket="b-1", Key="shared/a")["Body"].read() == b"x"
    s3.put_object(Bucket="b-1", Key="mine/a", Body=b"x")
    error = _refusal(lambda: s3.put_object(Bucket="b-1", Key="mine/locked", Body=b"x"))
    assert error["Message"].endswith("with an explicit deny in a resource-based policy")


def test_passing_a_role_needs_iam_pass_role_for_that_service(standin, user):
    iam = standin.client("iam")
    role = iam.create_role(RoleName="Exec", AssumeRolePolicyDocument=_policy())["Role"]["Arn"]
    client = user({"Effect": "Allow", "Action": "sagemaker:CreatePipeline", "Resource": "*"})
    error = _refusal(
        lambda: client("sagemaker").create_pipeline(
            PipelineName="p", PipelineDefinition="{}", RoleArn=role, ClientRequestToken="t" * 32
        )
    )
    assert f"iam:PassRole on resource: {role}" in error["Message"]


def test_a_condition_on_an_existing_object_tag_reads_the_objects_tags(standin, user):
    client = user(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}},
        }
    )
    admin_s3 = standin.client("s3")
    admin_s3.create_bucket(Bucket="b-1")
    admin_s3.put_object(Bucket="b-1", Key="tagged", Body=b"t", Tagging="servicecatalog%3Aprovisioning=true")
    admin_s3.put_object(Bucket="b-1", Key="plain", Body=b"p")
    s3 = client("s3")
    assert s3.get_object(Bucket="b-1", Key="tagged")["Body"].read() == b"t"
    assert _refusal(lambda: s3.get_object(Bucket="b-1", Key="plain"))["Code"] == "AccessDenied"


def test_with_enforcement_off_the_same_request_passes(standin, user, monkeypatch):
    client = user({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    monkeypatch.setattr(standin, "iam_enforced", False, raising=False)
    assert client("sagemaker").list_projects()["ProjectSummaryList"] == []


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("PUT", "/b/", {"logging": ""}, [("s3:PutBucketLogging", "arn:aws:s3:::b")]),
        ("HEAD", "/b/k/x.zip", {}, [("s3:GetObject", "arn:aws:s3:::b/k/x.zip")]),
        ("GET", "/b", {"list-type": "2"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("DELETE", "/b/k", {"versionId": "v1"}, [("s3:DeleteObjectVersion", "arn:aws:s3:::b/k")]),
        ("POST", "/b/k", {"uploads": ""}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
        ("GET", "/", {}, [("s3:ListAllMyBuckets", "*")]),
    ],
)
def test_s3_rest_requests_are_named_as_iam_names_them(method, path, query, expected):
    assert s3_actions.s3_actions(method, path, "127.0.0.1:1", query, {}) == expected


def test_a_copy_reads_its_source_and_a_virtual_host_names_the_bucket():
    pairs = s3_actions.s3_actions(
        "PUT", "/k2", "b.s3.us-east-1.amazonaws.com", {}, {"x-amz-copy-source": "/a/k1"}
    )
    assert pairs == [("s3:PutObject", "arn:aws:s3:::b/k2"), ("s3:GetObject", "arn:aws:s3:::a/k1")]
    assert s3_actions.deleted_keys(
        b"<Delete><Object><Key>a/1</Key></Object><Object><Key>b</Key></Object></Delete>"
    ) == [
        "a/1",
        "b",
    ]


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        (
            "codebuild",
            "BatchGetBuilds",
            {"ids": ["proj-1:abc"]},
            "arn:aws:codebuild:us-east-1:123456789012:project/proj-1",
        ),
        (
            "codepipeline",
            "PutApprovalResult",
            {"pipelineName": "p", "stageName": "DeployStaging", "actionName": "Approve", "token": "t"},
            "arn:aws:codepipeline:us-east-1:123456789012:p/DeployStaging/Approve",
        ),
        (
            "sagemaker",
            "DescribeProject",
            {"ProjectName": "Abalone"},
            "arn:aws:sagemaker:us-east-1:123456789012:project/abalone",
        ),
        (
            "cloudformation",
            "CreateStack",
            {"StackName": "SC-1"},
            "arn:aws:cloudformation:us-east-1:123456789012:stack/SC-1/*",
        ),
        ("lambda", "Invoke", {"FunctionName": "fn"}, "arn:aws:lambda:us-east-1:123456789012:function:fn"),
        (
            "servicecatalog",
            "DescribeProduct",
            {"Id": "prod-1"},
            "arn:aws:catalog:us-east-1:123456789012:product/prod-1",
        ),
        (
            "sagemaker",
            "AddTags",
            {"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p", "Tags": []},
            "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p",
        ),
    ],
)
def test_the_resource_of_an_action_is_filled_from_the_requests_members(service, operation, params, expected):
    (first, *_) = actions.accesses(service, operation, params, "us-east-1", ACCOUNT)
    assert first.resource == expected


def test_tags_a_request_carries_become_request_tag_keys():
    access = actions.accesses(
        "sagemaker",
        "CreateProject",
        {"ProjectName": "p", "Tags": [{"Key": "team", "Value": "ml"}]},
        "us-east-1",
        ACCOUNT,
    )[0]
    assert access.context == {"aws:TagKeys": ["team"], "aws:RequestTag/team": ["ml"]}
    assert actions.accesses("sts", "GetCallerIdentity", {}, "us-east-1", ACCOUNT) == []
