"""Model deploy: build and test projects, the pipeline (staging → approval → prod) and the approval rule."""

from __future__ import annotations

from typing import Any

from troposphere import Ref, Sub, Template, events
from troposphere import codepipeline as cp
from troposphere.s3 import Bucket

from generator import constants as c
from generator.build_pipeline import (
    build_action,
    env,
    pipeline,
    pipeline_project,
    project_env,
    source_action,
)
from generator.config import TemplateConfig
from generator.parameters import Inputs
from generator.roles import role_arn


def deploy_action(
    name: str, stack_name: str, template_config: str, config: TemplateConfig, run_order: int
) -> cp.Actions:
    """Create or update one stage's endpoint stack from the build's exported template."""
    return cp.Actions(
        Name=name,
        ActionTypeId=cp.ActionTypeId(Category="Deploy", Owner="AWS", Provider="CloudFormation", Version="1"),
        Configuration={
            "ActionMode": "REPLACE_ON_FAILURE",
            "Capabilities": "CAPABILITY_NAMED_IAM",
            "RoleArn": role_arn(config.role_family, "CloudFormation", config.role_arns),
            "StackName": Sub(stack_name),
            "TemplatePath": f"{c.BUILD_ARTIFACT}::{c.EXPORT_TEMPLATE_NAME}",
            "TemplateConfiguration": f"{c.BUILD_ARTIFACT}::{template_config}",
        },
        InputArtifacts=[cp.InputArtifacts(Name=c.BUILD_ARTIFACT)],
        RunOrder=run_order,
    )


def approval_action(run_order: int) -> cp.Actions:
    return cp.Actions(
        Name=c.APPROVAL_ACTION,
        ActionTypeId=cp.ActionTypeId(Category="Approval", Owner="AWS", Provider="Manual", Version="1"),
        Configuration={"CustomData": c.APPROVAL_MESSAGE},
        RunOrder=run_order,
    )


def add_deploy_pipeline(
    template: Template, config: TemplateConfig, inputs: Inputs, bucket: Bucket
) -> cp.Pipeline:
    """Add the deploy build and test projects, the deploy pipeline and the rule that starts it on approval."""

    def add_project(logical_id: str, name: str, buildspec: str, variables: list, description: str) -> Any:
        project = pipeline_project(
            logical_id,
            name,
            buildspec,
            project_env(inputs) + variables,
            config,
            Description=description,
            TimeoutInMinutes=30,
        )
        return template.add_resource(project)

    staging_config = env("EXPORT_TEMPLATE_STAGING_CONFIG", c.EXPORT_TEMPLATE_STAGING_CONFIG)
    build_variables = [
        env("ARTIFACT_BUCKET", Ref(bucket)),
        env("MODEL_EXECUTION_ROLE_ARN", role_arn(config.role_family, "Execution", config.role_arns)),
        env("SOURCE_MODEL_PACKAGE_GROUP_NAME", Sub(c.MODEL_PACKAGE_GROUP_NAME)),
        env("EXPORT_TEMPLATE_NAME", c.EXPORT_TEMPLATE_NAME),
        staging_config,
        env("EXPORT_TEMPLATE_PROD_CONFIG", c.EXPORT_TEMPLATE_PROD_CONFIG),
    ]
    build_project = add_project(
        c.DEPLOY_BUILD_PROJECT,
        c.DEPLOY_BUILD_PROJECT_NAME,
        "buildspec.yml",
        build_variables,
        "Builds the CloudFormation templates and configurations that deploy the model",
    )
    test_project = add_project(
        c.DEPLOY_TEST_PROJECT,
        c.DEPLOY_TEST_PROJECT_NAME,
        "test/buildspec.yml",
        [staging_config],
        "Tests the staging endpoint",
    )
    repo = inputs.repos[c.MODELDEPLOY]
    source = source_action(c.MODELDEPLOY_SOURCE_ACTION, repo, c.SOURCE_ARTIFACT)
    build = build_action(c.MODELDEPLOY_BUILD_ACTION, build_project, [c.SOURCE_ARTIFACT], [c.BUILD_ARTIFACT])
    staging = cp.Stages(
        Name=c.STAGING_STAGE,
        Actions=[
            deploy_action(
                c.STAGING_DEPLOY_ACTION, c.STAGING_STACK_NAME, c.EXPORT_TEMPLATE_STAGING_CONFIG, config, 1
            ),
            build_action(
                c.STAGING_TEST_ACTION,
                test_project,
                [c.SOURCE_ARTIFACT, c.BUILD_ARTIFACT],
                [],
                run_order=2,
                PrimarySource=c.SOURCE_ARTIFACT,
            ),
            approval_action(run_order=3),
        ],
    )
    prod = cp.Stages(
        Name=c.PROD_STAGE,
        Actions=[
            deploy_action(c.PROD_DEPLOY_ACTION, c.PROD_STACK_NAME, c.EXPORT_TEMPLATE_PROD_CONFIG, config, 1)
        ],
    )
    deploy_pipeline = pipeline(
        c.MODELDEPLOY_PIPELINE, c.MODELDEPLOY_PIPELINE_NAME, bucket, config, [source], [build], staging, prod
    )
    template.add_resource(deploy_pipeline)
    add_approval_rule(template, config, deploy_pipeline)
    return deploy_pipeline


def add_approval_rule(template: Template, config: TemplateConfig, pipeline: cp.Pipeline) -> events.Rule:
    """Start the deploy pipeline when a model package of the project's group is approved or rejected."""
    return template.add_resource(
        events.Rule(
            c.DEPLOY_RULE,
            Name=Sub(c.DEPLOY_RULE_NAME),
            Description="Rule to trigger a deployment when SageMaker Model registry is updated with a new "
            "model package. For example, a new model package is registered with Registry",
            EventPattern={
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {
                    "ModelPackageGroupName": [Sub(c.MODEL_PACKAGE_GROUP_NAME)],
                    "ModelApprovalStatus": [{"anything-but": "PendingManualApproval"}],
                },
            },
            State="ENABLED",
            Targets=[
                events.Target(
                    Arn=Sub(
                        "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:${"
                        + pipeline.title
                        + "}"
                    ),
                    Id=Sub(c.EVENTS_TARGET_ID),
                    RoleArn=role_arn(config.role_family, "Events", config.role_arns),
                )
            ],
        )
    )
