"""The stand-in's corrections of moto: bucket policy conditions, SageMaker name properties, stack updates,
custom resources and stack resource maps."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from moto.iam.access_control import PermissionResult

from permissions.trust import trust_policy
from standin.moto_fixes import bucket_permission, statement_applies

BUCKET = "sagemaker-project-p-abcdef123456"
DENY_INSECURE = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
DENY_EVERYTHING = {k: v for k, v in DENY_INSECURE.items() if k != "Condition"}


@pytest.mark.parametrize(
    ("case", "statement", "applies"),
    [
        ("no condition", DENY_EVERYTHING, True),
        ("insecure transport only", DENY_INSECURE, False),
        ("secure transport", {"Condition": {"Bool": {"aws:SecureTransport": "true"}}}, True),
        ("key case does not matter", {"Condition": {"Bool": {"AWS:securetransport": ["true"]}}}, True),
        ("unknown key", {"Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}, False),
        ("unknown operator", {"Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}, False),
    ],
)
def test_statement_applies(case: str, statement: dict, applies: bool) -> None:
    assert statement_applies(statement) is applies


@pytest.mark.parametrize(
    ("case", "statements", "verdict"),
    [
        ("tls-only policy lets TLS requests through", [DENY_INSECURE], PermissionResult.NEUTRAL),
        ("an unconditional deny still denies", [DENY_EVERYTHING], PermissionResult.DENIED),
        ("a single statement object", DENY_EVERYTHING, PermissionResult.DENIED),
    ],
)
def test_bucket_permission(case: str, statements: list | dict, verdict: PermissionResult) -> None:
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    assert bucket_permission(document, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/key") == verdict


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_a_tls_only_bucket_accepts_objects_and_a_deny_all_bucket_refuses_them(standin) -> None:
    s3 = standin.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [DENY_INSECURE]})
    )
    s3.put_object(Bucket=BUCKET, Key="artifact.zip", Body=b"zip")
    assert s3.get_object(Bucket=BUCKET, Key="artifact.zip")["Body"].read() == b"zip"
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [DENY_EVERYTHING]})
    )
    with pytest.raises(ClientError):
        s3.put_object(Bucket=BUCKET, Key="other.zip", Body=b"zip")


def endpoint_template(image: object, endpoint_name: object, **names: str) -> dict:
    """A Model, its EndpointConfig and Endpoint as the deploy seed declares them; ``names`` adds ``ModelName``
    and ``EndpointConfigName`` properties where given."""
    model = {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/service-role/ExecutionRole"}
    model["PrimaryContainer"] = {"Image": image}
    variant = {
        "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
        "VariantName": "AllTraffic",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "InitialVariantWeight": 1,
    }
    config: dict = {"ProductionVariants": [variant]}
    if "ModelName" in names:
        model["ModelName"] = names["ModelName"]
    if "EndpointConfigName" in names:
        config["EndpointConfigName"] = names["EndpointConfigName"]
    return {
        "Parameters": {"Image": {"Type": "String", "Default": "xgboost:1"}},
        "Resources": {
            "Model": {"Type": "AWS::SageMaker::Model", "Properties": model},
            "EndpointConfig": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": config},
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointName": endpoint_name,
                    "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]},
                },
            },
        },
    }


def test_sagemaker_resources_take_the_names_the_template_gives(standin) -> None:
    cfn, sagemaker = standin.client("cloudformation"), standin.client("sagemaker")
    template = endpoint_template(
        {"Ref": "Image"},
        {"Fn::Sub": "${AWS::StackName}-endpoint"},
        ModelName="abalone-staging-model",
        EndpointConfigName="abalone-staging-config",
    )
    cfn.create_stack(StackName="abalone-staging", TemplateBody=json.dumps(template))
    cfn.get_waiter("stack_create_complete").wait(StackName="abalone-staging", WaiterConfig={"Delay": 1})
    endpoint = sagemaker.describe_endpoint(EndpointName="abalone-staging-endpoint")
    assert endpoint["EndpointConfigName"] == "abalone-staging-config"
    config = sagemaker.describe_endpoint_config(EndpointConfigName="abalone-staging-config")
    assert config["ProductionVariants"][0]["ModelName"] == "abalone-staging-model"
    groups = standin.client("logs").describe_log_groups(logGroupNamePrefix="/aws/sagemaker/Endpoints/")
    assert [g["logGroupName"] for g in groups["logGroups"]] == [
        "/aws/sagemaker/Endpoints/abalone-staging-endpoint"
    ]


def served_model(sagemaker) -> dict:
    config = sagemaker.describe_endpoint(EndpointName="abalone-staging")["EndpointConfigName"]
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]
    return sagemaker.describe_model(ModelName=variant["ModelName"])


def test_an_update_that_replaces_the_model_moves_the_endpoint_to_it(standin) -> None:
    cfn, sagemaker = standin.client("cloudformation"), standin.client("sagemaker")
    waiter = {"Delay": 1}
    body = json.dumps(endpoint_template({"Ref": "Image"}, "abalone-staging"))
    cfn.create_stack(
        StackName="deploy", TemplateBody=body, Parameters=[{"ParameterKey": "Image", "ParameterValue": "v1"}]
    )
    cfn.get_waiter("stack_create_complete").wait(StackName="deploy", WaiterConfig=waiter)
    assert served_model(sagemaker)["PrimaryContainer"]["Image"] == "v1"

    cfn.update_stack(
        StackName="deploy", TemplateBody=body, Parameters=[{"ParameterKey": "Image", "ParameterValue": "v2"}]
    )
    cfn.get_waiter("stack_update_complete").wait(StackName="deploy", WaiterConfig=waiter)
    assert served_model(sagemaker)["PrimaryContainer"]["Image"] == "v2"


def test_custom_resources_run_in_process_instead_of_motos_docker_model() -> None:
    from moto.cloudformation import parsing

    from standin.cloudformation.custom_resources import CustomResource

    assert parsing.CustomModel is CustomResource
    assert parsing.resource_class_from_type("Custom::SeedCodeCheckin") is CustomResource


def test_a_reader_never_creates_a_stack_resource_only_its_worker_does(standin) -> None:
    from moto.cloudformation.models import Stack
    from moto.cloudformation.utils import generate_stack_id

    from standin.moto_fixes import STACK_WORKER, StackResources, guard

    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "guarded"}}}}
    stack_id = generate_stack_id("guarded", standin.region, standin.account_id)
    stack = Stack(  # type: ignore[abstract]
        stack_id=stack_id,
        name="guarded",
        template=json.dumps(template),
        parameters={},
        account_id=standin.account_id,
        region_name=standin.region,
    )
    guard(stack.resource_map)
    assert isinstance(stack.resource_map, StackResources)
    with pytest.raises(KeyError, match="not created"):
        stack.resource_map["Bucket"]  # a reader's lookup
    assert list(stack.resource_map) == []
    assert standin.client("s3").list_buckets()["Buckets"] == []
    STACK_WORKER.stack_id = stack_id
    try:
        stack.resource_map["Bucket"]  # the worker's lookup creates it
    finally:
        STACK_WORKER.stack_id = None
    assert list(stack.resource_map) == ["Bucket"]
    assert [b["Name"] for b in standin.client("s3").list_buckets()["Buckets"]] == ["guarded"]


def inline_function(code: str, timeout: int) -> str:
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": "sagemaker-inline",
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Role": "arn:aws:iam::123456789012:role/inline",
            "Timeout": timeout,
            "Code": {"ZipFile": code},
        },
    }
    return json.dumps({"Resources": {"Inline": function}})


def test_an_update_changes_an_inline_functions_code_only_when_its_code_changed(standin) -> None:
    cfn, awslambda = standin.client("cloudformation"), standin.client("lambda")
    waiter = {"Delay": 1}
    first, second = (
        "def handler(event, context):\n    return 1\n",
        "def handler(event, context):\n    return 2\n",
    )
    trust = trust_policy(["lambda.amazonaws.com"])
    standin.client("iam").create_role(RoleName="inline", AssumeRolePolicyDocument=json.dumps(trust))
    cfn.create_stack(StackName="inline", TemplateBody=inline_function(first, 3))
    cfn.get_waiter("stack_create_complete").wait(StackName="inline", WaiterConfig=waiter)
    created = awslambda.get_function(FunctionName="sagemaker-inline")["Configuration"]

    cfn.update_stack(StackName="inline", TemplateBody=inline_function(first, 30))
    cfn.get_waiter("stack_update_complete").wait(StackName="inline", WaiterConfig=waiter)
    settings = awslambda.get_function(FunctionName="sagemaker-inline")["Configuration"]
    assert (settings["Timeout"], settings["CodeSha256"]) == (30, created["CodeSha256"])

    cfn.update_stack(StackName="inline", TemplateBody=inline_function(second, 30))
    cfn.get_waiter("stack_update_complete").wait(StackName="inline", WaiterConfig=waiter)
    code = awslambda.get_function(FunctionName="sagemaker-inline")["Configuration"]
    assert code["CodeSha256"] != created["CodeSha256"]


def test_aws_managed_policies_are_built_once_and_each_account_state_keeps_its_own_counts(
    standin, monkeypatch
) -> None:
    """moto builds AWS's 1,582 managed policies for every IAM backend of every reset; the stand-in builds
    them once and hands each backend copies, so an attachment counted before a reset is gone after it."""
    from standin import moto_fixes

    iam = standin.client("iam")
    arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    iam.get_policy(PolicyArn=arn)  # this account's IAM has been made once in the session
    built = []
    original = moto_fixes._INIT_AWS_POLICIES
    monkeypatch.setattr(moto_fixes, "_INIT_AWS_POLICIES", lambda iam: built.append(1) or original(iam))
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    for _ in range(2):
        standin.reset()
        assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    assert built == []  # every backend since the session's first came from the kept copy
