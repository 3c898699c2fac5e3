"""The custom resource runs the template's own Lambda code in-process and answers through its ResponseURL."""

from __future__ import annotations

import json

import pytest

from standin.testing import wait_for

FUNCTION = """
import json, os, urllib.request
import boto3

def handler(event, context):
    mode = event["ResourceProperties"].get("Mode", "ok")
    data = {
        "buckets": ",".join(b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]),
        "stage": os.environ.get("STAGE", ""),
        "remaining": str(context.get_remaining_time_in_millis() > 0),
        "request": event["RequestType"],
        "old": json.dumps(event.get("OldResourceProperties", {}).get("Mode")),
    }
    body = {
        "Status": "FAILED" if mode == "fail" else "SUCCESS",
        "Reason": "check-in build seed-1 failed: see its log",
        "PhysicalResourceId": event.get("PhysicalResourceId") or "seed-" + event["LogicalResourceId"],
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }
    if mode == "silent":
        return
    if mode == "raise":
        raise RuntimeError("boom")
    request = urllib.request.Request(event["ResponseURL"], data=json.dumps(body).encode(), method="PUT",
                                     headers={"Content-Type": ""})
    urllib.request.urlopen(request, timeout=10).read()
    boto3.client("s3").put_object(Bucket="calls", Key=event["RequestType"] + "-" + event["LogicalResourceId"],
                                  Body=json.dumps(event["ResourceProperties"]))
"""


def template(mode: str, resource_type: str = "Custom::Seed") -> dict:
    return {
        "Parameters": {"Mode": {"Type": "String", "Default": mode}},
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.11",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Timeout": 60,
                    "Environment": {"Variables": {"STAGE": "staging"}},
                    "Code": {"ZipFile": FUNCTION},
                },
            },
            "Seed": {
                "Type": resource_type,
                "Properties": {"ServiceToken": {"Fn::GetAtt": ["Function", "Arn"]}, "Mode": {"Ref": "Mode"}},
            },
        },
        "Outputs": {
            "Url": {"Value": {"Fn::GetAtt": ["Seed", "buckets"]}},
            "Stage": {"Value": {"Fn::GetAtt": ["Seed", "stage"]}},
            "Remaining": {"Value": {"Fn::GetAtt": ["Seed", "remaining"]}},
            "Physical": {"Value": {"Ref": "Seed"}},
        },
    }


def settle(cfn, name: str, timeout: float = 60) -> dict:
    """The stack once no longer in progress; {} once it is gone."""

    def settled():
        stacks = [s for s in cfn.describe_stacks()["Stacks"] if s["StackName"] == name]
        if stacks and stacks[0]["StackStatus"].endswith("IN_PROGRESS"):
            return None
        return [stacks[0] if stacks else {}]  # a list: truthy even when the stack is gone

    (stack,) = wait_for(settled, timeout, f"stack {name} to settle or go", interval=0.05)
    return stack


@pytest.mark.parametrize("resource_type", ["Custom::Seed", "AWS::CloudFormation::CustomResource"])
def test_create_update_delete_run_the_function(standin, resource_type: str) -> None:
    cfn, s3 = standin.client("cloudformation"), standin.client("s3")
    s3.create_bucket(Bucket="calls")
    cfn.create_stack(StackName="seeded", TemplateBody=json.dumps(template("ok", resource_type)))
    stack = settle(cfn, "seeded")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    # The function's boto3 reached the stand-in, saw its own variables and a running clock.
    assert outputs == {"Url": "calls", "Stage": "staging", "Remaining": "True", "Physical": "seed-Seed"}
    assert json.loads(s3.get_object(Bucket="calls", Key="Create-Seed")["Body"].read())["Mode"] == "ok"
    (function,) = standin.client("lambda").list_functions()["Functions"]
    group = f"/aws/lambda/{function['FunctionName']}"  # the function logs where AWS makes it log
    assert standin.client("logs").describe_log_streams(logGroupName=group)["logStreams"]

    cfn.update_stack(
        StackName="seeded",
        TemplateBody=json.dumps(template("ok", resource_type)),
        Parameters=[{"ParameterKey": "Mode", "ParameterValue": "again"}],
    )
    assert settle(cfn, "seeded")["StackStatus"] == "UPDATE_COMPLETE"
    assert json.loads(s3.get_object(Bucket="calls", Key="Update-Seed")["Body"].read())["Mode"] == "again"

    cfn.delete_stack(StackName="seeded")
    assert settle(cfn, "seeded") == {}
    assert "Delete-Seed" in [o["Key"] for o in s3.list_objects_v2(Bucket="calls")["Contents"]]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (
            "fail",
            "Received response status [FAILED] from custom resource. Message returned: check-in build seed-1",
        ),
        ("raise", "failed without answering: RuntimeError: boom"),
        ("silent", "returned without sending a response"),
    ],
)
def test_a_failed_answer_rolls_back_with_the_reason(standin, monkeypatch, mode: str, reason: str) -> None:
    from standin.cloudformation import custom_resources

    monkeypatch.setattr(custom_resources, "RESPONSE_GRACE_SECONDS", 0.2)
    cfn = standin.client("cloudformation")
    standin.client("s3").create_bucket(Bucket="calls")
    cfn.create_stack(StackName="broken", TemplateBody=json.dumps(template(mode)))
    assert settle(cfn, "broken")["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="broken")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Seed"]
    assert reason in failed[0]["ResourceStatusReason"]
    rolled_back = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]
    assert ("Function", "DELETE_COMPLETE") in rolled_back
    assert standin.client("lambda").list_functions()["Functions"] == []


def test_a_new_service_token_is_refused_on_update(standin) -> None:
    """As CloudFormation: a custom resource's function cannot be swapped for another by an update."""
    cfn, s3 = standin.client("cloudformation"), standin.client("s3")
    s3.create_bucket(Bucket="calls")
    cfn.create_stack(StackName="seeded", TemplateBody=json.dumps(template("ok")))
    assert settle(cfn, "seeded")["StackStatus"] == "CREATE_COMPLETE"
    moved = template("ok")
    moved["Resources"]["Other"] = dict(moved["Resources"]["Function"])
    moved["Resources"]["Seed"]["Properties"]["ServiceToken"] = {"Fn::GetAtt": ["Other", "Arn"]}
    cfn.update_stack(StackName="seeded", TemplateBody=json.dumps(moved))
    assert settle(cfn, "seeded")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="seeded")["StackEvents"]
    reasons = [e.get("ResourceStatusReason") or "" for e in events]
    assert any("Modifying service token is not allowed." in reason for reason in reasons), reasons
    calls = [o["Key"] for o in s3.list_objects_v2(Bucket="calls")["Contents"]]
    assert "Update-Seed" not in calls
