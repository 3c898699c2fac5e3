"""CloudFormation makes a stack's resources as the stack's role: a call the role may not make fails the
resource with the handler's AccessDenied message, and the stack rolls back leaving nothing behind."""

import json

import yaml

from permissions.trust import trust_policy
from standin.testing import wait_stack

TEMPLATE = {
    "Resources": {
        "Logs": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "perm-logs"}},
        "Artifacts": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": "perm-artifacts",
                "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}},
            },
        },
    }
}


def _role(standin, *denied: str) -> str:
    iam = standin.client("iam")
    arn = iam.create_role(
        RoleName="StackRole",
        AssumeRolePolicyDocument=json.dumps(trust_policy(["cloudformation.amazonaws.com"])),
    )["Role"]["Arn"]
    statements = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
    if denied:
        statements.append({"Effect": "Deny", "Action": list(denied), "Resource": "*"})
    iam.put_role_policy(
        RoleName="StackRole",
        PolicyName="own",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    return arn


def test_a_property_the_role_may_not_set_fails_the_resource_with_awss_message(standin):
    role = _role(standin, "s3:PutBucketLogging")
    cfn = standin.client("cloudformation")
    cfn.create_stack(StackName="perm", TemplateBody=yaml.safe_dump(TEMPLATE), RoleARN=role)
    assert wait_stack(cfn, "perm")["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="perm")["StackEvents"]
    failed = next(
        e for e in events if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Artifacts"
    )
    assert failed["ResourceStatusReason"].startswith(
        'Resource handler returned message: "User: arn:aws:sts::123456789012:assumed-role/StackRole/'
        "AWSCloudFormation is not authorized to perform: s3:PutBucketLogging on resource: "
        "arn:aws:s3:::perm-artifacts with an explicit deny in an identity-based policy "
        "(Service: S3, Status Code: 403"
    )
    assert failed["ResourceStatusReason"].endswith("HandlerErrorCode: AccessDenied)")
    buckets = [b["Name"] for b in standin.client("s3").list_buckets()["Buckets"]]
    assert "perm-artifacts" not in buckets and "perm-logs" not in buckets


def test_with_every_call_allowed_the_stack_completes(standin):
    cfn = standin.client("cloudformation")
    cfn.create_stack(StackName="perm", TemplateBody=yaml.safe_dump(TEMPLATE), RoleARN=_role(standin))
    assert wait_stack(cfn, "perm")["StackStatus"] == "CREATE_COMPLETE"
