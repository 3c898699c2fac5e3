"""`bootstrap`: the Studio service roles of one family and SageMaker projects enabled.

Only what is missing is created; an existing role is never changed (its owner may have hardened it).
The permissions are an inline equivalent of AWS's managed policies, scoped to the `sagemaker-` prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from generator import constants as c
from scripts.common import Aws, BadInput, is_not_found, progress

SERVICE_ROLE_PATH, FAMILY_PREFIX = c.SERVICE_ROLE_PATH, c.FAMILY_PREFIX
# Role kinds in the order they are created: the family's launch role, then those the template references.
KINDS = ("Launch", *c.ROLE_KINDS)
TRUSTED = {
    "Launch": ["servicecatalog.amazonaws.com"],
    "Use": [
        "cloudformation.amazonaws.com",
        "codebuild.amazonaws.com",
        "codepipeline.amazonaws.com",
        "events.amazonaws.com",
        "firehose.amazonaws.com",
        "glue.amazonaws.com",
        "lambda.amazonaws.com",
        "sagemaker.amazonaws.com",
        "states.amazonaws.com",
    ],
    "CodeBuild": ["codebuild.amazonaws.com"],
    "CodePipeline": ["codepipeline.amazonaws.com"],
    "Events": ["events.amazonaws.com"],
    "Lambda": ["lambda.amazonaws.com"],
    "CloudFormation": ["cloudformation.amazonaws.com"],
    "Execution": ["sagemaker.amazonaws.com"],
}
# What making a model, its endpoint configuration and its endpoint takes (the deploy stacks do it).
ENDPOINT_ACTIONS = (
    "sagemaker:CreateModel",
    "sagemaker:DeleteModel",
    "sagemaker:DescribeModel",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:CreateEndpoint",
)
INLINE_POLICY_NAME = "sm-mlops-managed-policy-equivalent"


def role_name(family: str, kind: str) -> str:
    if family not in FAMILY_PREFIX:
        raise BadInput(
            f"unknown role family {family!r}", field="--role-family", fix=f"use one of {list(FAMILY_PREFIX)}"
        )
    return c.role_name(family, kind)


def role_arn(partition: str, account: str, family: str, kind: str) -> str:
    return f"arn:{partition}:iam::{account}:role{SERVICE_ROLE_PATH}{role_name(family, kind)}"


def trust_policy(services: list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}],
    }


def _allow(
    actions: list[str], resources: list[str], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def permissions(partition: str, account: str, family: str, kind: str) -> dict[str, Any]:
    """The inline policy of one role: what AWS's managed policy of that role allows, within `sagemaker-*`."""
    from scripts.servicecatalog import asset_bucket_name  # imports this module: one spelling of the name

    arn = f"arn:{partition}"
    own = f"{arn}:iam::{account}:role{SERVICE_ROLE_PATH}"
    buckets = [f"{arn}:s3:::sagemaker-*", f"{arn}:s3:::sagemaker-*/*"]
    tagged_connection = {"StringEqualsIgnoreCase": {"aws:ResourceTag/sagemaker": "true"}}
    connections = [
        f"{arn}:codestar-connections:*:{account}:connection/*",
        f"{arn}:codeconnections:*:{account}:connection/*",
    ]
    logs = _allow(
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        [f"{arn}:logs:*:{account}:log-group:/aws/*"],
    )

    def pass_role(kinds: list[str], service: str) -> dict[str, Any]:
        return _allow(
            ["iam:PassRole"],
            [f"{own}{c.role_name(family, k)}" for k in kinds],
            {"StringEquals": {"iam:PassedToService": service}},
        )

    statements: dict[str, list[dict[str, Any]]] = {
        "Launch": [
            # What Service Catalog does with the product's stack under the launch role (AWS's managed
            # policy of this role lists the same): create, update, delete, tag, and watch it.
            _allow(
                [
                    "cloudformation:CreateStack",
                    "cloudformation:UpdateStack",
                    "cloudformation:DeleteStack",
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:TagResource",
                    "cloudformation:UntagResource",
                ],
                [
                    f"{arn}:cloudformation:*:{account}:stack/SC-*",
                    f"{arn}:cloudformation:*:{account}:stack/SP-*",
                ],
            ),
            # These two take no resource: IAM accepts only "*" for them.
            _allow(["cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate"], ["*"]),
            _allow(
                ["codebuild:CreateProject", "codebuild:DeleteProject", "codebuild:UpdateProject"],
                [f"{arn}:codebuild:*:{account}:project/sagemaker-*"],
            ),
            _allow(
                [
                    "codepipeline:CreatePipeline",
                    "codepipeline:UpdatePipeline",
                    "codepipeline:DeletePipeline",
                    "codepipeline:GetPipeline",
                    "codepipeline:GetPipelineState",
                    "codepipeline:TagResource",
                ],
                [f"{arn}:codepipeline:*:{account}:sagemaker-*"],
            ),
            _allow(
                [
                    "events:DescribeRule",
                    "events:DeleteRule",
                    "events:DisableRule",
                    "events:EnableRule",
                    "events:PutRule",
                    "events:PutTargets",
                    "events:RemoveTargets",
                ],
                [f"{arn}:events:*:{account}:rule/sagemaker-*"],
            ),
            _allow(
                [
                    "lambda:AddPermission",
                    "lambda:CreateFunction",
                    "lambda:DeleteFunction",
                    "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration",
                    "lambda:InvokeFunction",
                    "lambda:RemovePermission",
                    "lambda:TagResource",
                ],
                [f"{arn}:lambda:*:{account}:function:sagemaker-*"],
            ),
            _allow(
                [
                    "s3:CreateBucket",
                    "s3:DeleteBucket",
                    "s3:DeleteBucketPolicy",
                    "s3:GetBucketPolicy",
                    "s3:PutBucketPolicy",
                    "s3:PutBucketAcl",
                    "s3:PutBucketNotification",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:PutBucketLogging",
                    "s3:PutEncryptionConfiguration",
                    "s3:PutBucketCORS",
                    "s3:PutBucketTagging",
                    "s3:PutObjectTagging",
                    "s3:GetObject",
                ],
                buckets,
            ),
            _allow(
                [
                    *ENDPOINT_ACTIONS,
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:CreateCodeRepository",
                    "sagemaker:DeleteCodeRepository",
                    "sagemaker:DescribeCodeRepository",
                    "sagemaker:AddTags",
                ],
                [f"{arn}:sagemaker:*:{account}:*"],
            ),
            _allow(["iam:PassRole"], [f"{own}{c.role_name(family, k)}" for k in c.ROLE_KINDS]),
            _allow(
                ["codestar-connections:PassConnection", "codeconnections:PassConnection"],
                connections,
                tagged_connection,
            ),
        ],
        "CodeBuild": [
            logs,
            _allow(
                ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:CreateBucket"],
                buckets,
            ),
            _allow(
                [
                    "sagemaker:CreatePipeline",
                    "sagemaker:UpdatePipeline",
                    "sagemaker:DescribePipeline",
                    "sagemaker:StartPipelineExecution",
                    "sagemaker:DescribePipelineExecution",
                    "sagemaker:ListPipelineExecutionSteps",
                    "sagemaker:ListModelPackages",
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:AddTags",
                ],
                [f"{arn}:sagemaker:*:{account}:*"],
            ),
            pass_role(["Execution", "Use"], "sagemaker.amazonaws.com"),
            _allow(
                ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
                connections,
                tagged_connection,
            ),
        ],
        "CodePipeline": [
            _allow(
                ["s3:GetObject", "s3:PutObject", "s3:GetBucketVersioning", "s3:GetObjectVersion"], buckets
            ),
            _allow(
                ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                [f"{arn}:codebuild:*:{account}:project/sagemaker-*"],
            ),
            _allow(
                [
                    "cloudformation:CreateStack",
                    "cloudformation:UpdateStack",
                    "cloudformation:DeleteStack",
                    "cloudformation:DescribeStacks",
                    "cloudformation:CreateChangeSet",
                    "cloudformation:ExecuteChangeSet",
                    "cloudformation:DescribeChangeSet",
                    "cloudformation:DeleteChangeSet",
                ],
                [f"{arn}:cloudformation:*:{account}:stack/sagemaker-*"],
            ),
            pass_role(["CloudFormation", "Use"], "cloudformation.amazonaws.com"),
            _allow(
                ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
                connections,
                tagged_connection,
            ),
        ],
        "Events": [
            _allow(["codepipeline:StartPipelineExecution"], [f"{arn}:codepipeline:*:{account}:sagemaker-*"])
        ],
        "Lambda": [
            logs,
            _allow(
                ["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                [f"{arn}:codebuild:*:{account}:project/sagemaker-*"],
            ),
            # The seeding function checks the seed and bootstrap zips' hashes (one object version) first.
            _allow(
                ["s3:GetObject", "s3:GetObjectVersion"],
                [
                    f"{arn}:s3:::{asset_bucket_name(account, '*')}/{prefix}/*"
                    for prefix in ("seedcode", "seeding")
                ],
            ),
        ],
        "CloudFormation": [
            _allow(
                [
                    *ENDPOINT_ACTIONS,
                    "sagemaker:UpdateEndpoint",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:AddTags",
                    "sagemaker:DeleteTags",
                ],
                [f"{arn}:sagemaker:*:{account}:*"],
            ),
            pass_role(["Execution", "Use"], "sagemaker.amazonaws.com"),
        ],
        "Execution": [
            logs,
            _allow(
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"],
                buckets,
            ),
            _allow(
                [
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:CreateModelPackage",
                    "sagemaker:CreateModelPackageGroup",
                    "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:AddTags",
                ],
                [f"{arn}:sagemaker:*:{account}:*"],
            ),
            pass_role(["Execution"], "sagemaker.amazonaws.com"),
        ],
    }
    if kind == "Use":
        merged = [
            s
            for k in ("CodeBuild", "CodePipeline", "Events", "Lambda", "CloudFormation", "Execution")
            for s in statements[k]
        ]
        return {"Version": "2012-10-17", "Statement": merged}
    return {"Version": "2012-10-17", "Statement": statements[kind]}


@dataclass
class RolePlan:
    name: str
    arn: str
    exists: bool


def plan_roles(aws: Aws, family: str) -> list[RolePlan]:
    iam = aws.client("iam")
    plans = []
    for kind in KINDS:
        name = role_name(family, kind)
        try:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
            plans.append(RolePlan(name, arn, True))
        except ClientError as error:
            if not is_not_found(error):
                raise
            plans.append(RolePlan(name, role_arn(aws.partition, aws.account, family, kind), False))
    return plans


def ensure_roles(aws: Aws, family: str, *, dry_run: bool = False) -> list[dict[str, str]]:
    """Create the family's missing roles; return one row per role with what happened."""
    iam = aws.client("iam")
    rows = []
    for kind, plan in zip(KINDS, plan_roles(aws, family), strict=True):
        if plan.exists:
            rows.append({"role": plan.name, "arn": plan.arn, "action": "exists, unchanged"})
            continue
        if dry_run:
            rows.append({"role": plan.name, "arn": plan.arn, "action": "would create"})
            continue
        progress(f"  creating role {plan.name}")
        iam.create_role(
            Path=SERVICE_ROLE_PATH,
            RoleName=plan.name,
            AssumeRolePolicyDocument=json.dumps(trust_policy(TRUSTED[kind])),
            Description=f"SageMaker projects {kind} role (created by sm-mlops bootstrap)",
        )
        iam.put_role_policy(
            RoleName=plan.name,
            PolicyName=INLINE_POLICY_NAME,
            PolicyDocument=json.dumps(permissions(aws.partition, aws.account, family, kind)),
        )
        iam.get_waiter("role_exists").wait(RoleName=plan.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        rows.append({"role": plan.name, "arn": plan.arn, "action": "created"})
    return rows


def ensure_projects_enabled(aws: Aws, *, dry_run: bool = False) -> str:
    """Enable SageMaker projects (the Service Catalog portfolio) for the account unless already enabled."""
    sagemaker = aws.client("sagemaker")
    status = sagemaker.get_sagemaker_servicecatalog_portfolio_status()["Status"]
    if status == "Enabled":
        return "already enabled"
    if dry_run:
        return "would enable"
    sagemaker.enable_sagemaker_servicecatalog_portfolio()
    return "enabled"
