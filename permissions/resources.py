"""What CloudFormation calls, as the stack's role, for each resource type and property the templates use.

``{name}`` is the resource's physical name and ``{role}`` the path and name of the role a role property names;
`resource_needs` fills both for one resource. Every property a shipped template sets is listed, with the
actions it adds beyond the type's own create/read/delete (often none: it is part of the create call).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from permissions.needs import (
    PROJECT_TAGS,
    SAGEMAKER_TAG_KEYS,
    TAGGED_CONNECTION,
    Context,
    Need,
    arn,
    bucket,
    passed_to,
)

ROLE = "arn:{partition}:iam::{account}:role/{role}"


@dataclass(frozen=True)
class ResourceType:
    """The calls CloudFormation makes for any resource of a type, and those each property adds."""

    lifecycle: tuple[Need, ...]
    properties: dict[str, tuple[Need, ...]] = field(default_factory=dict)
    # Properties only the generator's options for a launch role of one's own set (bucket versioning, a KMS
    # key): AWS's default launch role lacks what they need, so they are not among the walkthrough's needs.
    own_launch_role: dict[str, tuple[Need, ...]] = field(default_factory=dict)

    def actions(self, prop: str | None) -> set[str]:
        """The actions a property adds (None: the resource's own create, read and delete calls)."""
        if prop is None:
            return {n.action for n in self.lifecycle}
        return {n.action for n in {**self.properties, **self.own_launch_role}[prop]}


def _pass(service: str, prop: str) -> tuple[Need, ...]:
    return (Need("iam:PassRole", ROLE, f"{prop}: the role passed to {service}", passed_to(service)),)


S3_BUCKET = bucket("{name}")
CODEBUILD_PROJECT = arn("codebuild", "project/{name}")
PIPELINE = arn("codepipeline", "{name}")
RULE = arn("events", "rule/{name}")
FUNCTION = arn("lambda", "function:{name}")
CODE_REPOSITORY = arn("sagemaker", "code-repository/{name}")
MODEL = arn("sagemaker", "model/{name}")
ENDPOINT_CONFIG = arn("sagemaker", "endpoint-config/{name}")
ENDPOINT = arn("sagemaker", "endpoint/{name}")
CONNECTION_PASSED = (
    TAGGED_CONNECTION,
    Context("{connections}:PassedToService", ("codepipeline.amazonaws.com",)),
)

RESOURCE_TYPES: dict[str, ResourceType] = {
    "AWS::S3::Bucket": ResourceType(
        lifecycle=(
            Need("s3:CreateBucket", S3_BUCKET, "create the bucket"),
            Need("s3:PutBucketTagging", S3_BUCKET, "the stack's project tags reach the bucket"),
            # DeletionPolicy Retain: CloudFormation never deletes the artifact bucket, so no s3:DeleteBucket.
        ),
        properties={
            "BucketName": (),
            "BucketEncryption": (Need("s3:PutEncryptionConfiguration", S3_BUCKET, "BucketEncryption"),),
            "LoggingConfiguration": (Need("s3:PutBucketLogging", S3_BUCKET, "LoggingConfiguration"),),
            "PublicAccessBlockConfiguration": (
                Need("s3:PutBucketPublicAccessBlock", S3_BUCKET, "PublicAccessBlockConfiguration"),
            ),
        },
        own_launch_role={
            "VersioningConfiguration": (
                Need("s3:PutBucketVersioning", S3_BUCKET, "VersioningConfiguration"),
            ),
        },
    ),
    "AWS::S3::BucketPolicy": ResourceType(
        lifecycle=(
            Need("s3:GetBucketPolicy", S3_BUCKET, "read the bucket's policy"),
            Need("s3:DeleteBucketPolicy", S3_BUCKET, "delete the bucket's policy with the stack"),
        ),
        properties={
            "Bucket": (),
            "PolicyDocument": (Need("s3:PutBucketPolicy", S3_BUCKET, "PolicyDocument"),),
        },
    ),
    "AWS::CodeBuild::Project": ResourceType(
        lifecycle=(
            Need("codebuild:CreateProject", CODEBUILD_PROJECT, "create the project", PROJECT_TAGS),
            Need("codebuild:UpdateProject", CODEBUILD_PROJECT, "update the project with the stack"),
            Need("codebuild:DeleteProject", CODEBUILD_PROJECT, "delete the project with the stack"),
        ),
        properties={
            "Name": (),
            "Description": (),
            "Artifacts": (),
            "Cache": (),
            "Environment": (),
            "Source": (),
            "TimeoutInMinutes": (),
            "ServiceRole": _pass("codebuild.amazonaws.com", "ServiceRole"),
        },
        own_launch_role={
            "EncryptionKey": (Need("kms:DescribeKey", arn("kms", "key/{name}"), "EncryptionKey: the key"),),
        },
    ),
    "AWS::CodePipeline::Pipeline": ResourceType(
        lifecycle=(
            Need("codepipeline:CreatePipeline", PIPELINE, "create the pipeline"),
            Need("codepipeline:GetPipeline", PIPELINE, "read the pipeline back"),
            Need("codepipeline:GetPipelineState", PIPELINE, "wait for the pipeline"),
            Need("codepipeline:UpdatePipeline", PIPELINE, "update the pipeline with the stack"),
            Need("codepipeline:DeletePipeline", PIPELINE, "delete the pipeline with the stack"),
            Need(
                "codepipeline:TagResource",
                PIPELINE,
                "the stack's project tags reach the pipeline",
                PROJECT_TAGS,
            ),
        ),
        properties={
            "Name": (),
            "PipelineType": (),
            "ArtifactStore": (),
            "RoleArn": _pass("codepipeline.amazonaws.com", "RoleArn"),
            # A CodeStarSourceConnection source action passes the connection to CodePipeline.
            "Stages": (
                Need(
                    "{connections}:PassConnection",
                    "{connection}",
                    "Stages: the source action's connection",
                    CONNECTION_PASSED,
                ),
            ),
        },
    ),
    "AWS::Events::Rule": ResourceType(
        lifecycle=(
            Need("events:PutRule", RULE, "create the rule"),
            Need("events:DescribeRule", RULE, "read the rule back"),
            Need("events:DeleteRule", RULE, "delete the rule with the stack"),
            Need("events:RemoveTargets", RULE, "remove the targets before deleting the rule"),
        ),
        properties={
            "Name": (),
            "Description": (),
            "EventPattern": (),
            "State": (),
            "Targets": (
                Need("events:PutTargets", RULE, "Targets"),
                Need(
                    "iam:PassRole",
                    "arn:{partition}:iam::{account}:role/{role_Events}",
                    "Targets: the target's role passed to EventBridge",
                    passed_to("events.amazonaws.com"),
                ),
            ),
        },
    ),
    "AWS::Lambda::Function": ResourceType(
        lifecycle=(
            Need("lambda:CreateFunction", FUNCTION, "create the function"),
            Need("lambda:GetFunction", FUNCTION, "read the function back"),
            Need("lambda:DeleteFunction", FUNCTION, "delete the function with the stack"),
            Need(
                "lambda:TagResource",
                FUNCTION,
                "the stack's project tags reach the function",
                (SAGEMAKER_TAG_KEYS,),
            ),
        ),
        properties={
            "FunctionName": (),
            "Description": (),
            "Code": (),
            "Handler": (),
            "MemorySize": (),
            "Runtime": (),
            "Timeout": (),
            "Role": _pass("lambda.amazonaws.com", "Role"),
        },
    ),
    # CloudFormation invokes a custom resource's function itself; the other properties go to the function.
    "AWS::CloudFormation::CustomResource": ResourceType(
        lifecycle=(),
        properties={
            "ServiceToken": (Need("lambda:InvokeFunction", FUNCTION, "ServiceToken: invoke the function"),),
            # seeding.function.REQUIRED (this package imports nothing of the project; a test holds them equal)
            **{
                prop: ()
                for prop in (
                    "CodeBuildProjectName",
                    "SeedCodeBucket",
                    "SeedCodeKey",
                    "SeedCodeSha256",
                    "BootstrapKey",
                    "BootstrapSha256",
                    "RepositoryUrl",
                    "BuildEnvironment",
                )
            },
        },
    ),
    "AWS::SageMaker::CodeRepository": ResourceType(
        lifecycle=(
            Need("sagemaker:CreateCodeRepository", CODE_REPOSITORY, "create the code repository"),
            Need("sagemaker:DescribeCodeRepository", CODE_REPOSITORY, "read the code repository back"),
            Need(
                "sagemaker:DeleteCodeRepository", CODE_REPOSITORY, "delete the code repository with the stack"
            ),
        ),
        properties={"CodeRepositoryName": (), "GitConfig": ()},
    ),
    "AWS::SageMaker::Model": ResourceType(
        lifecycle=(
            Need("sagemaker:CreateModel", MODEL, "create the model", PROJECT_TAGS),
            Need("sagemaker:AddTags", MODEL, "the deploy stack's tags reach the model", PROJECT_TAGS),
            Need("sagemaker:DescribeModel", MODEL, "read the model back"),
            Need("sagemaker:DeleteModel", MODEL, "delete the model with the stack"),
        ),
        properties={
            "ExecutionRoleArn": _pass("sagemaker.amazonaws.com", "ExecutionRoleArn"),
            "PrimaryContainer": (),
        },
    ),
    "AWS::SageMaker::EndpointConfig": ResourceType(
        lifecycle=(
            Need("sagemaker:CreateEndpointConfig", ENDPOINT_CONFIG, "create the configuration", PROJECT_TAGS),
            Need(
                "sagemaker:AddTags",
                ENDPOINT_CONFIG,
                "the deploy stack's tags reach the configuration",
                PROJECT_TAGS,
            ),
            Need("sagemaker:DescribeEndpointConfig", ENDPOINT_CONFIG, "read the configuration back"),
            Need(
                "sagemaker:DeleteEndpointConfig", ENDPOINT_CONFIG, "delete the configuration with the stack"
            ),
        ),
        properties={"ProductionVariants": (), "DataCaptureConfig": ()},
    ),
    "AWS::SageMaker::Endpoint": ResourceType(
        lifecycle=(
            Need("sagemaker:CreateEndpoint", ENDPOINT, "create the endpoint", PROJECT_TAGS),
            Need("sagemaker:AddTags", ENDPOINT, "the deploy stack's tags reach the endpoint", PROJECT_TAGS),
            Need("sagemaker:DescribeEndpoint", ENDPOINT, "wait for the endpoint to be InService"),
            Need("sagemaker:UpdateEndpoint", ENDPOINT, "a new model version updates the endpoint"),
            Need("sagemaker:DeleteEndpoint", ENDPOINT, "delete the endpoint with the stack"),
        ),
        properties={"EndpointName": (), "EndpointConfigName": ()},
    ),
}


@dataclass(frozen=True)
class Made:
    """One resource a stack makes: its type, the field holding its physical name, the role kind it names."""

    type: str
    name: str
    role: str = ""


# The product template's resources (made by the launch role) and the deploy stacks' (made by the
# CloudFormation role), as the walkthrough makes them.
PRODUCT_RESOURCES = (
    Made("AWS::S3::Bucket", "artifact_bucket"),
    Made("AWS::S3::BucketPolicy", "artifact_bucket"),
    Made("AWS::CodeBuild::Project", "modelbuild_project", "CodeBuild"),
    Made("AWS::CodeBuild::Project", "deploy_build_project", "CodeBuild"),
    Made("AWS::CodeBuild::Project", "deploy_test_project", "CodeBuild"),
    Made("AWS::CodeBuild::Project", "checkin_project", "CodeBuild"),
    Made("AWS::CodePipeline::Pipeline", "modelbuild_pipeline", "CodePipeline"),
    Made("AWS::CodePipeline::Pipeline", "modeldeploy_pipeline", "CodePipeline"),
    Made("AWS::Events::Rule", "deploy_rule", "Events"),
    Made("AWS::Lambda::Function", "checkin_lambda", "Lambda"),
    Made("AWS::CloudFormation::CustomResource", "checkin_lambda"),
    Made("AWS::SageMaker::CodeRepository", "code_repository_build"),
    Made("AWS::SageMaker::CodeRepository", "code_repository_deploy"),
)
DEPLOY_RESOURCES = (
    Made("AWS::SageMaker::Model", "model", "Execution"),
    Made("AWS::SageMaker::EndpointConfig", "endpoint_config"),
    Made("AWS::SageMaker::Endpoint", "staging_endpoint"),
    Made("AWS::SageMaker::Endpoint", "prod_endpoint"),
)


def resource_needs(made: Made) -> tuple[Need, ...]:
    """Every call the type and its properties need, for this resource (``{name}``/``{role}`` filled in)."""
    kind = RESOURCE_TYPES[made.type]
    needs = kind.lifecycle + tuple(n for prop in sorted(kind.properties) for n in kind.properties[prop])
    fill = {"name": f"{{{made.name}}}", "role": f"{{role_{made.role}}}" if made.role else "{role}"}
    return tuple(
        Need(
            n.action,
            n.resource.replace("{name}", fill["name"]).replace("{role}", fill["role"]),
            f"{made.type} {{{made.name}}}: {n.why}",
            n.context,
        )
        for n in needs
    )
