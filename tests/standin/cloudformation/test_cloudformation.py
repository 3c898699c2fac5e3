"""The CloudFormation resource types the stand-in adds to moto, created and deleted via ``create_stack``."""

from __future__ import annotations

import json

import pytest

from permissions.trust import trust_policy
from standin.testing import wait_for, wait_stack

ROLE_TRUST = trust_policy(["codepipeline.amazonaws.com"])


def wait_deleted(cfn, name: str, timeout: float = 60) -> None:
    wait_for(
        lambda: name not in [s["StackName"] for s in cfn.describe_stacks()["Stacks"]],
        timeout,
        f"stack {name} to be deleted",
        interval=0.05,
    )


def outputs(stack: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def create(standin, name: str, template: dict, **parameters: str) -> dict:
    cfn = standin.client("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    return wait_stack(cfn, name)


def test_codebuild_project(standin) -> None:
    template = {
        "Resources": {
            "Project": {
                "Type": "AWS::CodeBuild::Project",
                "Properties": {
                    "Name": "seed-checkin",
                    "ServiceRole": "arn:aws:iam::123456789012:role/any",
                    "Source": {"Type": "NO_SOURCE", "BuildSpec": "version: 0.2\nphases: {}\n"},
                    "Artifacts": {"Type": "NO_ARTIFACTS"},
                    "Environment": {
                        "Type": "LINUX_CONTAINER",
                        "ComputeType": "BUILD_GENERAL1_SMALL",
                        "Image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                        "EnvironmentVariables": [{"Name": "A", "Value": "1"}],
                    },
                    "SecondarySources": [{"Type": "S3", "Location": "b/k.zip", "SourceIdentifier": "extra"}],
                },
            }
        },
        "Outputs": {
            "Name": {"Value": {"Ref": "Project"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Project", "Arn"]}},
        },
    }
    stack = create(standin, "cb", template)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert outputs(stack) == {
        "Name": "seed-checkin",
        "Arn": "arn:aws:codebuild:us-east-1:123456789012:project/seed-checkin",
    }
    codebuild = standin.client("codebuild")
    project = codebuild.batch_get_projects(names=["seed-checkin"])["projects"][0]
    assert project["source"]["buildspec"].startswith("version: 0.2")
    assert project["environment"]["environmentVariables"] == [{"name": "A", "value": "1"}]
    assert project["secondarySources"][0]["sourceIdentifier"] == "extra"
    standin.client("cloudformation").delete_stack(StackName="cb")
    wait_deleted(standin.client("cloudformation"), "cb")
    assert codebuild.batch_get_projects(names=["seed-checkin"])["projects"] == []


def pipeline_template(role_arn: str) -> dict:
    return {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Name": "sagemaker-p-build",
                    "RoleArn": role_arn,
                    "RestartExecutionOnUpdate": False,
                    "ArtifactStore": {"Type": "S3", "Location": "artifacts"},
                    "Stages": [
                        {
                            "Name": "Source",
                            "Actions": [
                                {
                                    "Name": "Src",
                                    "ActionTypeId": {
                                        "Category": "Source",
                                        "Owner": "AWS",
                                        "Provider": "CodeStarSourceConnection",
                                        "Version": "1",
                                    },
                                    "Configuration": {"ConnectionArn": "arn:c", "FullRepositoryId": "o/r"},
                                    "OutputArtifacts": [{"Name": "SourceArtifact"}],
                                }
                            ],
                        },
                        {
                            "Name": "Build",
                            "Actions": [
                                {
                                    "Name": "Build",
                                    "ActionTypeId": {
                                        "Category": "Build",
                                        "Owner": "AWS",
                                        "Provider": "CodeBuild",
                                        "Version": "1",
                                    },
                                    "Configuration": {"ProjectName": "p"},
                                    "InputArtifacts": [{"Name": "SourceArtifact"}],
                                    "RunOrder": 1,
                                }
                            ],
                        },
                    ],
                },
            }
        },
        "Outputs": {
            "Name": {"Value": {"Ref": "Pipeline"}},
            "Version": {"Value": {"Fn::GetAtt": ["Pipeline", "Version"]}},
        },
    }


def test_codepipeline_pipeline_calls_the_hook(standin) -> None:
    from standin import hooks

    role = standin.client("iam").create_role(RoleName="pipe", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))
    created: list[tuple[str, str, str]] = []
    record = hooks.subscribe("pipeline_created", lambda *args: created.append(args))
    try:
        stack = create(standin, "pipe", pipeline_template(role["Role"]["Arn"]))
    finally:
        hooks.unsubscribe("pipeline_created", record)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    assert outputs(stack) == {"Name": "sagemaker-p-build", "Version": "1"}
    assert created == [("123456789012", "us-east-1", "sagemaker-p-build")]
    pipeline = standin.client("codepipeline").get_pipeline(name="sagemaker-p-build")["pipeline"]
    source, build = pipeline["stages"]
    assert source["actions"][0]["configuration"] == {"ConnectionArn": "arn:c", "FullRepositoryId": "o/r"}
    assert build["actions"][0]["inputArtifacts"] == [{"name": "SourceArtifact"}]
    standin.client("cloudformation").delete_stack(StackName="pipe")
    wait_deleted(standin.client("cloudformation"), "pipe")
    assert standin.client("codepipeline").list_pipelines()["pipelines"] == []


def test_pipeline_without_a_usable_role_fails_the_stack_with_the_reason(standin) -> None:
    stack = create(standin, "badpipe", pipeline_template("arn:aws:iam::123456789012:role/missing"))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = standin.client("cloudformation").describe_stack_events(StackName="badpipe")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Pipeline"
    assert "AssumeRole" in failed[0]["ResourceStatusReason"]


def test_sagemaker_code_repository_and_model_package_group(standin) -> None:
    template = {
        "Parameters": {"Seed": {"Type": "String", "AllowedValues": ["true", "false"]}},
        "Conditions": {"Seeded": {"Fn::Equals": [{"Ref": "Seed"}, "true"]}},
        "Resources": {
            "Repo": {
                "Type": "AWS::SageMaker::CodeRepository",
                "Properties": {
                    "CodeRepositoryName": "sagemaker-p-modelbuild",
                    "GitConfig": {"RepositoryUrl": "https://example.com/o/r.git", "Branch": "main"},
                },
            },
            "Group": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {"ModelPackageGroupName": "p-group", "ModelPackageGroupDescription": "d"},
            },
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "p-artifacts"}},
            "BucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": "arn:aws:s3:::p-artifacts/*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    },
                },
            },
            "OnlyWhenSeeded": {
                "Type": "AWS::SageMaker::CodeRepository",
                "Condition": "Seeded",
                "Properties": {"GitConfig": {"RepositoryUrl": "https://example.com/o/x.git"}},
            },
        },
        "Outputs": {
            "RepoRef": {"Value": {"Ref": "Repo"}},
            "RepoName": {"Value": {"Fn::GetAtt": ["Repo", "CodeRepositoryName"]}},
            "GroupRef": {"Value": {"Ref": "Group"}},
        },
    }
    stack = create(standin, "sm", template, Seed="false")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert outputs(stack) == {
        "RepoRef": "arn:aws:sagemaker:us-east-1:123456789012:code-repository/sagemaker-p-modelbuild",
        "RepoName": "sagemaker-p-modelbuild",
        "GroupRef": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/p-group",
    }
    cfn = standin.client("cloudformation")
    listed = cfn.list_stack_resources(StackName="sm")["StackResourceSummaries"]
    assert sorted(r["LogicalResourceId"] for r in listed) == ["Bucket", "BucketPolicy", "Group", "Repo"]
    policy = json.loads(standin.client("s3").get_bucket_policy(Bucket="p-artifacts")["Policy"])
    assert policy["Statement"][0]["Effect"] == "Deny"
    described = cfn.describe_stack_resources(StackName="sm")["StackResources"]
    assert all(r["PhysicalResourceId"] for r in described)
    sagemaker = standin.client("sagemaker")
    repos = sagemaker.list_code_repositories()["CodeRepositorySummaryList"]
    assert [r["CodeRepositoryName"] for r in repos] == ["sagemaker-p-modelbuild"]
    assert repos[0]["GitConfig"]["RepositoryUrl"] == "https://example.com/o/r.git"
    assert sagemaker.describe_model_package_group(ModelPackageGroupName="p-group")["ModelPackageGroupName"]
    cfn.delete_stack(StackName="sm")
    wait_deleted(cfn, "sm")
    assert sagemaker.list_code_repositories()["CodeRepositorySummaryList"] == []
    assert sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_stack_events_show_each_resource(standin) -> None:
    template = {
        "Resources": {
            "Group": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {"ModelPackageGroupName": "g"},
            },
            "Repo": {
                "Type": "AWS::SageMaker::CodeRepository",
                "DependsOn": "Group",
                "Properties": {"GitConfig": {"RepositoryUrl": "https://example.com/o/r.git"}},
            },
        }
    }
    create(standin, "ev", template)
    events = standin.client("cloudformation").describe_stack_events(StackName="ev")["StackEvents"]
    chronological = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]
    assert chronological == [
        ("ev", "CREATE_IN_PROGRESS"),
        ("Group", "CREATE_IN_PROGRESS"),
        ("Group", "CREATE_COMPLETE"),
        ("Repo", "CREATE_IN_PROGRESS"),
        ("Repo", "CREATE_COMPLETE"),
        ("ev", "CREATE_COMPLETE"),
    ]


@pytest.mark.parametrize(
    ("case", "template", "message"),
    [
        ("no resources", {"Parameters": {}}, "Resources"),
        ("missing parameter", {"Parameters": {"P": {"Type": "String"}}, "Resources": {}}, "P"),
    ],
)
def test_bad_templates_are_refused_before_anything_exists(
    standin, case: str, template: dict, message: str
) -> None:
    cfn = standin.client("cloudformation")
    with pytest.raises(cfn.exceptions.ClientError) as raised:
        cfn.create_stack(StackName="bad", TemplateBody=json.dumps(template))
    assert message in str(raised.value)
    assert cfn.describe_stacks()["Stacks"] == []


@pytest.mark.slow
def test_the_rendered_template_seeds_both_repositories_through_the_real_checkin_build(standin) -> None:
    """~20 s: two real check-in builds (aws s3 cp, git config --global, checkin.py) through the proxy URL."""
    from pathlib import Path

    from seeding.assets import build_assets
    from standin.testing import start_project_stack

    template = (
        Path(__file__).resolve().parents[3] / "templates" / "mlops-third-party-git-v1.yaml"
    ).read_text()
    assets = {asset.key: asset.data for asset in build_assets().values()}
    start_project_stack(standin, template, assets, "SC-123456789012-pp-seeded", "demo", "p-abcdef123456")
    cfn = standin.client("cloudformation")
    assert cfn.describe_stacks(StackName="SC-123456789012-pp-seeded")["Stacks"][0]["StackStatus"] == (
        "CREATE_IN_PROGRESS"
    )
    stack = wait_stack(cfn, "SC-123456789012-pp-seeded", timeout=300)
    events = cfn.describe_stack_events(StackName="SC-123456789012-pp-seeded")["StackEvents"]
    reasons = [e.get("ResourceStatusReason") for e in events if e["ResourceStatus"].endswith("FAILED")]
    assert stack["StackStatus"] == "CREATE_COMPLETE", reasons
    for name, marker in (("octo/build", "pipelines"), ("octo/deploy", "endpoint-config-template.yml")):
        files = standin.git.list_files(name, "main")
        assert any(f.startswith(marker) for f in files), files
        log = standin.git.log(name, "main")
        assert len(log) == 2 and "Seed-Code: " in log[0].message, log
        assert standin.git.head(name, "main") == log[0].sha
    builds = standin.client("codebuild").list_builds_for_project(
        projectName="sagemaker-demo-p-abcdef123456-git-seedcodecheckin"
    )["ids"]
    assert len(builds) == 2


def test_update_stack_changes_the_pipeline_in_place(standin) -> None:
    from standin import hooks

    role = standin.client("iam").create_role(RoleName="pipe", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))
    template = pipeline_template(role["Role"]["Arn"])
    assert create(standin, "upd", template)["StackStatus"] == "CREATE_COMPLETE"
    build = template["Resources"]["Pipeline"]["Properties"]["Stages"][1]["Actions"][0]
    build["Configuration"] = {"ProjectName": "renamed"}
    updated: list[tuple[str, str, str]] = []
    record = hooks.subscribe("pipeline_updated", lambda *args: updated.append(args))
    cfn = standin.client("cloudformation")
    try:
        cfn.update_stack(StackName="upd", TemplateBody=json.dumps(template))
        stack = wait_stack(cfn, "upd")
    finally:
        hooks.unsubscribe("pipeline_updated", record)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(stack)["Version"] == "2"
    pipeline = standin.client("codepipeline").get_pipeline(name="sagemaker-p-build")["pipeline"]
    assert pipeline["stages"][1]["actions"][0]["configuration"] == {"ProjectName": "renamed"}
    assert updated == [("123456789012", "us-east-1", "sagemaker-p-build")]


def test_hooks_refuse_unknown_events_and_survive_a_failing_subscriber() -> None:
    from standin import hooks

    with pytest.raises(ValueError, match="unknown event 'pipeline_exploded'"):
        hooks.subscribe("pipeline_exploded", print)
    seen: list[str] = []

    def broken(*args: str) -> None:
        raise RuntimeError("subscriber bug")

    record = hooks.subscribe("git_pushed", lambda name, branch, sha: seen.append(sha))
    hooks.subscribe("git_pushed", broken)
    try:
        hooks.git_pushed("o/r", "main", "abc123")
    finally:
        hooks.unsubscribe("git_pushed", broken)
        hooks.unsubscribe("git_pushed", record)
    assert seen == ["abc123"]
