"""Invariants over every resource of every variant, name budgets, the launch-role table."""

from __future__ import annotations

from typing import Any

import pytest
from generator_helpers import LONGEST_PSEUDO, Evaluator, example_values, template_of

from generator import constants as c
from generator.config import VARIANTS, TemplateConfig
from generator.render import variants

OWN_LAUNCH_ROLE = TemplateConfig(
    own_launch_role=True,
    role_arns={"Lambda": "arn:aws:iam::123456789012:role/sagemaker-my-lambda"},
    bucket_versioning=True,
    kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d",
)
ALL_CONFIGS: dict[str, TemplateConfig] = {
    **VARIANTS,
    **{f"{name} (all conditions on)": cfg for name, cfg in variants(all_conditions_on=True).items()},
    "own launch role with every option": OWN_LAUNCH_ROLE,
}
DEFAULT_LAUNCH_ROLE_CONFIGS = {name: cfg for name, cfg in ALL_CONFIGS.items() if not cfg.own_launch_role}

# What Studio's default launch role may do, as far as this template needs it.
LAUNCH_ROLE_ALLOWS = {
    "s3:CreateBucket",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketLogging",
    "s3:PutBucketPolicy",
    "s3:PutBucketTagging",
    "codebuild:CreateProject",
    "codepipeline:CreatePipeline",
    "codepipeline:TagResource",
    "codestar-connections:PassConnection",
    "events:PutRule",
    "events:PutTargets",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "lambda:TagResource",
    "sagemaker:CreateCodeRepository",
    "sagemaker:AddTags",
    "iam:PassRole",
}
# Every resource type, property and tag the template uses, and the launch-role permission it needs.
# (type, property) -> permission; the property None is the resource itself.
PERMISSIONS: dict[tuple[str, str | None], str] = {
    ("AWS::S3::Bucket", None): "s3:CreateBucket",
    ("AWS::S3::Bucket", "BucketName"): "s3:CreateBucket",
    ("AWS::S3::Bucket", "BucketEncryption"): "s3:PutEncryptionConfiguration",
    ("AWS::S3::Bucket", "PublicAccessBlockConfiguration"): "s3:PutBucketPublicAccessBlock",
    ("AWS::S3::Bucket", "LoggingConfiguration"): "s3:PutBucketLogging",
    ("AWS::S3::Bucket", "VersioningConfiguration"): "s3:PutBucketVersioning",  # own launch role only
    ("AWS::S3::Bucket", "Tags"): "s3:PutBucketTagging",
    ("AWS::S3::BucketPolicy", None): "s3:PutBucketPolicy",
    ("AWS::S3::BucketPolicy", "Bucket"): "s3:PutBucketPolicy",
    ("AWS::S3::BucketPolicy", "PolicyDocument"): "s3:PutBucketPolicy",
    ("AWS::CodeBuild::Project", None): "codebuild:CreateProject",
    ("AWS::CodeBuild::Project", "Name"): "codebuild:CreateProject",
    ("AWS::CodeBuild::Project", "Description"): "codebuild:CreateProject",
    ("AWS::CodeBuild::Project", "Source"): "codebuild:CreateProject",
    ("AWS::CodeBuild::Project", "Artifacts"): "codebuild:CreateProject",
    ("AWS::CodeBuild::Project", "Environment"): "codebuild:CreateProject",
    ("AWS::CodeBuild::Project", "TimeoutInMinutes"): "codebuild:CreateProject",
    ("AWS::CodeBuild::Project", "Cache"): "codebuild:CreateProject",  # the build role reads/writes it
    ("AWS::CodeBuild::Project", "ServiceRole"): "iam:PassRole",
    ("AWS::CodeBuild::Project", "EncryptionKey"): "kms:DescribeKey",  # own launch role only
    ("AWS::CodePipeline::Pipeline", None): "codepipeline:CreatePipeline",
    ("AWS::CodePipeline::Pipeline", "Name"): "codepipeline:CreatePipeline",
    ("AWS::CodePipeline::Pipeline", "PipelineType"): "codepipeline:CreatePipeline",
    ("AWS::CodePipeline::Pipeline", "ArtifactStore"): "codepipeline:CreatePipeline",
    ("AWS::CodePipeline::Pipeline", "Stages"): "codestar-connections:PassConnection",
    ("AWS::CodePipeline::Pipeline", "RoleArn"): "iam:PassRole",
    ("AWS::CodePipeline::Pipeline", "Tags"): "codepipeline:TagResource",
    ("AWS::Events::Rule", None): "events:PutRule",
    ("AWS::Events::Rule", "Name"): "events:PutRule",
    ("AWS::Events::Rule", "Description"): "events:PutRule",
    ("AWS::Events::Rule", "EventPattern"): "events:PutRule",
    ("AWS::Events::Rule", "State"): "events:PutRule",
    ("AWS::Events::Rule", "Targets"): "events:PutTargets",
    ("AWS::Lambda::Function", None): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "FunctionName"): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "Description"): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "Handler"): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "Runtime"): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "Timeout"): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "MemorySize"): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "Code"): "lambda:CreateFunction",
    ("AWS::Lambda::Function", "Role"): "iam:PassRole",
    ("AWS::Lambda::Function", "Tags"): "lambda:TagResource",  # keys starting sagemaker: only
    ("AWS::CloudFormation::CustomResource", None): "lambda:InvokeFunction",
    **{
        ("AWS::CloudFormation::CustomResource", prop): "lambda:InvokeFunction"
        for prop in (
            "ServiceToken",
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
    ("AWS::SageMaker::CodeRepository", None): "sagemaker:CreateCodeRepository",
    ("AWS::SageMaker::CodeRepository", "CodeRepositoryName"): "sagemaker:CreateCodeRepository",
    ("AWS::SageMaker::CodeRepository", "GitConfig"): "sagemaker:CreateCodeRepository",
    ("AWS::SageMaker::CodeRepository", "Tags"): "sagemaker:AddTags",  # keys starting sagemaker: only
}
TAGGABLE_WITH_SAGEMAKER_KEYS = {"AWS::Lambda::Function", "AWS::SageMaker::CodeRepository"}
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SageMaker::CodeRepository": "CodeRepositoryName",
}


def longest(config: TemplateConfig) -> dict[str, dict[str, Any]]:
    """Every resource (conditions ignored), evaluated with the longest project name, id, region, account."""
    values = example_values(
        config.form, SageMakerProjectName=c.LONGEST_PROJECT_NAME, SageMakerProjectId=c.LONGEST_PROJECT_ID
    )
    template = template_of(config)
    evaluator = Evaluator(template, values, pseudo=LONGEST_PSEUDO)
    return {
        k: {**r, "Properties": evaluator.value(r.get("Properties", {}))}
        for k, r in template["Resources"].items()
    }


def names_with_budgets(resources: dict[str, dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(what, name, budget) for every physical name the template builds."""
    found = []
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource["Properties"]
        if kind in NAME_PROPERTY:
            found.append((logical_id, props[NAME_PROPERTY[kind]], c.NAME_BUDGETS[kind]))
        if kind == "AWS::CodePipeline::Pipeline":
            for stage in props["Stages"]:
                for action in stage["Actions"]:
                    if "StackName" in action.get("Configuration", {}):
                        stack = action["Configuration"]["StackName"]
                        found.append(
                            (
                                f"{logical_id}/{action['Name']}",
                                stack,
                                c.NAME_BUDGETS["AWS::CloudFormation::Stack"],
                            )
                        )
        if kind == "AWS::Events::Rule":
            for target in props["Targets"]:
                found.append((f"{logical_id} target", target["Id"], c.NAME_BUDGETS["EventsTargetId"]))
        if kind == "AWS::CodeBuild::Project" and props["Source"]["Type"] == "S3":
            found.append((f"{logical_id} asset bucket", props["Source"]["Location"].split("/")[0], 63))
    return found


def statements(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        if "Statement" in node:
            return list(node["Statement"])
        return [s for value in node.values() for s in statements(value)]
    if isinstance(node, list):
        return [s for value in node for s in statements(value)]
    return []


@pytest.mark.parametrize("name", sorted(ALL_CONFIGS))
def test_every_name_starts_with_sagemaker_and_fits_its_budget(name: str) -> None:
    found = names_with_budgets(longest(ALL_CONFIGS[name]))
    assert len(found) >= 15
    too_long = [(what, len(value), budget) for what, value, budget in found if len(value) > budget]
    assert not too_long, too_long
    unprefixed = [(what, value) for what, value, _ in found if not value.startswith("sagemaker-")]
    assert not unprefixed, unprefixed


@pytest.mark.parametrize(
    ("case", "logical_id", "length"),
    [
        ("bucket", "MlOpsArtifactsBucket", 32),
        ("rule: 64 at most", "ModelDeploySageMakerEventRule", 63),
        ("function: 64 at most", "GitSeedCodeCheckinProjectTriggerLambda", 44),
        ("code repository", "ModelDeploySagemakerCodeRepository", 36),
    ],
)
def test_budgets_written_in_constants_hold(case: str, logical_id: str, length: int) -> None:
    resource = longest(VARIANTS["mlops-third-party-git-v1"])[logical_id]
    assert len(resource["Properties"][NAME_PROPERTY[resource["Type"]]]) == length


@pytest.mark.parametrize("name", sorted(ALL_CONFIGS))
def test_buckets_are_encrypted_private_and_tls_only(name: str) -> None:
    resources = longest(ALL_CONFIGS[name])
    buckets = {k for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    assert buckets
    for logical_id in buckets:
        props = resources[logical_id]["Properties"]
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
        assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
        )
        assert resources[logical_id]["DeletionPolicy"] == "Retain"
        policies = [
            r["Properties"]["PolicyDocument"]
            for r in resources.values()
            if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == f"<Ref {logical_id}>"
        ]
        assert len(policies) == 1
        tls = [
            s
            for s in policies[0]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert tls and set(tls[0]["Resource"]) == {
            f"<GetAtt {logical_id}.Arn>",
            f"<GetAtt {logical_id}.Arn>/*",
        }


@pytest.mark.parametrize("name", sorted(ALL_CONFIGS))
def test_nothing_the_launch_role_cannot_create(name: str) -> None:
    resources = template_of(ALL_CONFIGS[name])["Resources"]
    forbidden = ("AWS::IAM::", "AWS::KMS::", "AWS::SQS::", "AWS::SNS::", "AWS::Logs::", "AWS::EC2::")
    assert not [(k, r["Type"]) for k, r in resources.items() if r["Type"].startswith(forbidden)]
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        assert "ReservedConcurrentExecutions" not in props, logical_id
        tags = props.get("Tags", [])
        if resource["Type"] == "AWS::Events::Rule":
            assert not tags, f"{logical_id}: Events rules cannot be tagged by the launch role"
        if resource["Type"] in TAGGABLE_WITH_SAGEMAKER_KEYS:
            assert all(t["Key"].startswith("sagemaker:") for t in tags), logical_id


@pytest.mark.parametrize("name", sorted(DEFAULT_LAUNCH_ROLE_CONFIGS))
def test_default_variants_need_no_versioning_or_kms(name: str) -> None:
    resources = template_of(ALL_CONFIGS[name])["Resources"]
    bucket = resources["MlOpsArtifactsBucket"]["Properties"]
    assert "VersioningConfiguration" not in bucket
    assert "aws:kms" not in str(resources) and "EncryptionKey" not in str(resources)


def used_rows(template: dict[str, Any]) -> set[tuple[str, str | None]]:
    rows: set[tuple[str, str | None]] = set()
    for resource in template["Resources"].values():
        rows.add((resource["Type"], None))
        rows.update((resource["Type"], prop) for prop in resource.get("Properties", {}))
    return rows


@pytest.mark.parametrize("name", sorted(ALL_CONFIGS))
def test_every_type_and_property_used_has_a_permission_row(name: str) -> None:
    missing = used_rows(template_of(ALL_CONFIGS[name])) - set(PERMISSIONS)
    assert not missing, (
        f"add a row to PERMISSIONS naming the launch-role permission for: {sorted(missing, key=str)}"
    )


@pytest.mark.parametrize("name", sorted(DEFAULT_LAUNCH_ROLE_CONFIGS))
def test_default_launch_role_can_provision_every_variant(name: str) -> None:
    needed = {PERMISSIONS[row] for row in used_rows(template_of(ALL_CONFIGS[name]))}
    assert needed <= LAUNCH_ROLE_ALLOWS, sorted(needed - LAUNCH_ROLE_ALLOWS)


def test_own_launch_role_options_are_exactly_what_the_default_role_lacks() -> None:
    needed = {PERMISSIONS[row] for row in used_rows(template_of(OWN_LAUNCH_ROLE))}
    assert needed - LAUNCH_ROLE_ALLOWS == {"s3:PutBucketVersioning", "kms:DescribeKey"}


def test_the_lambda_answers_before_it_times_out() -> None:
    from seeding import function

    for config in VARIANTS.values():
        props = template_of(config)["Resources"]["GitSeedCodeCheckinProjectTriggerLambda"]["Properties"]
        assert props["Timeout"] <= 900
        assert props["Timeout"] > function.MARGIN_SECONDS + function.POLL_SECONDS


@pytest.mark.parametrize("name", sorted(ALL_CONFIGS))
def test_checkov_skips_name_the_missing_permission(name: str) -> None:
    for logical_id, resource in template_of(ALL_CONFIGS[name])["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_AWS_") and "launch role" in skip["comment"], (logical_id, skip)
            assert ":" in skip["comment"], f"{logical_id} {skip['id']}: name the permission (service:Action)"
