"""A Service Catalog stack updates its Lambda functions as the launch role: AWS's launch role for SageMaker
projects may create and delete a function, not update its code or settings, so such an update rolls back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data
from test_custom_resource import settle

from permissions.trust import trust_policy

STACK = "SC-123456789012-pp-launchrole"
LAUNCH_POLICY = "AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy"
TRUST = trust_policy(["servicecatalog.amazonaws.com", "lambda.amazonaws.com"])


def launch_policy_lambda_statements() -> dict[str, Any]:
    """The Lambda statements of AWS's managed launch policy, as moto ships it."""
    document = json.loads(aws_managed_policies_data)[LAUNCH_POLICY]["Document"]
    statements = [
        s
        for s in document["Statement"]
        if any(
            a.startswith("lambda:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def template(
    role_arn: str, code: str = "def handler(event, context):\n    return 1\n", timeout: int = 3
) -> str:
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": "sagemaker-p-abcdef123456-trigger",
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Role": role_arn,
            "Timeout": timeout,
            "Code": {"ZipFile": code},
        },
    }
    return json.dumps({"Resources": {"Trigger": function}})


def launch_role(standin: Any, *extra_actions: str) -> str:
    iam = standin.client("iam")
    arn = iam.create_role(
        RoleName="AmazonSageMakerServiceCatalogProductsLaunchRole",
        Path="/service-role/",
        AssumeRolePolicyDocument=json.dumps(TRUST),
    )["Role"]["Arn"]
    policy = launch_policy_lambda_statements()
    # The function's Role is passed to Lambda (the managed policy's PassRole statements, narrowed to it).
    policy["Statement"].append({"Effect": "Allow", "Action": "iam:PassRole", "Resource": arn})
    if extra_actions:
        policy["Statement"].append(
            {
                "Effect": "Allow",
                "Action": list(extra_actions),
                "Resource": "arn:aws:lambda:*:*:function:sagemaker-*",
            }
        )
    iam.put_role_policy(
        RoleName=arn.rsplit("/", 1)[-1], PolicyName="launch", PolicyDocument=json.dumps(policy)
    )
    return str(arn)


@pytest.mark.parametrize(
    ("case", "change", "action"),
    [
        ("new code", {"code": "def handler(event, context):\n    return 2\n"}, "lambda:UpdateFunctionCode"),
        ("new settings", {"timeout": 30}, "lambda:UpdateFunctionConfiguration"),
    ],
)
def test_an_update_of_a_function_is_refused_under_the_launch_role(
    case: str, change: dict[str, Any], action: str, standin
) -> None:
    cfn, awslambda = standin.client("cloudformation"), standin.client("lambda")
    role = launch_role(standin)
    cfn.create_stack(StackName=STACK, TemplateBody=template(role), RoleARN=role)
    assert settle(cfn, STACK)["StackStatus"] == "CREATE_COMPLETE"
    before = awslambda.get_function(FunctionName="sagemaker-p-abcdef123456-trigger")["Configuration"]

    cfn.update_stack(StackName=STACK, TemplateBody=template(role, **change))
    assert settle(cfn, STACK)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=STACK)["StackEvents"]
    (failed,) = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed["LogicalResourceId"] == "Trigger"
    reason = failed["ResourceStatusReason"]
    role = "AmazonSageMakerServiceCatalogProductsLaunchRole"
    principal = f"arn:aws:sts::123456789012:assumed-role/{role}/servicecatalog"
    assert (
        f"User: {principal} is not authorized to perform: {action} on resource: {before['FunctionArn']}"
        in reason
    )
    assert f"because no identity-based policy allows the {action} action" in reason
    assert "HandlerErrorCode: AccessDenied" in reason
    after = awslambda.get_function(FunctionName="sagemaker-p-abcdef123456-trigger")["Configuration"]
    assert (after["CodeSha256"], after["Timeout"]) == (before["CodeSha256"], before["Timeout"])


def test_a_launch_role_allowed_to_update_functions_updates_them(standin) -> None:
    cfn, awslambda = standin.client("cloudformation"), standin.client("lambda")
    role = launch_role(standin, "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration")
    cfn.create_stack(StackName=STACK, TemplateBody=template(role), RoleARN=role)
    assert settle(cfn, STACK)["StackStatus"] == "CREATE_COMPLETE"
    cfn.update_stack(StackName=STACK, TemplateBody=template(role, timeout=30))
    assert settle(cfn, STACK)["StackStatus"] == "UPDATE_COMPLETE"
    assert (
        awslambda.get_function(FunctionName="sagemaker-p-abcdef123456-trigger")["Configuration"]["Timeout"]
        == 30
    )


def test_an_update_leaving_the_function_alone_needs_no_lambda_permission(standin) -> None:
    cfn = standin.client("cloudformation")
    role = launch_role(standin)
    body = json.loads(template(role))
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(body), RoleARN=role)
    assert settle(cfn, STACK)["StackStatus"] == "CREATE_COMPLETE"
    body["Outputs"] = {"Name": {"Value": {"Ref": "Trigger"}}}
    cfn.update_stack(StackName=STACK, TemplateBody=json.dumps(body))
    assert settle(cfn, STACK)["StackStatus"] == "UPDATE_COMPLETE"
