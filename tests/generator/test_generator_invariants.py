"""Invariants over every resource of every variant, name budgets, the launch-role table."""

from __future__ import annotations

import json
from typing import Any

import pytest
from generator_helpers import LONGEST_PSEUDO, Evaluator, example_values, template_of

from generator import constants as c
from generator.config import VARIANTS, TemplateConfig
from generator.render import variants
from permissions.resources import RESOURCE_TYPES

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

# What Studio's default launch role may do: the actions its managed policy (as moto ships it) allows.
LAUNCH_POLICY = "AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy"
CONNECTION_PREFIXES = ("codestar-connections", "codeconnections")


def launch_role_allows(action: str) -> bool:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    from standin.iam.policy_evaluation import glob_matches

    document = json.loads(aws_managed_policies_data)[LAUNCH_POLICY]["Document"]
    return any(
        statement["Effect"] == "Allow" and any(glob_matches(a, action, ignore_case=True) for a in listed)
        for statement in document["Statement"]
        for listed in [
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        ]
    )


def needed_actions(template: dict[str, Any]) -> set[str]:
    """The actions the permission table says the template's types and properties need of the launch role."""
    actions = {action for kind, prop in used_rows(template) for action in RESOURCE_TYPES[kind].actions(prop)}
    return {a.replace("{connections}", prefix) for a in actions for prefix in CONNECTION_PREFIXES}


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
def test_every_type_and_property_used_is_in_the_permission_table(name: str) -> None:
    missing = []
    for kind, prop in used_rows(template_of(ALL_CONFIGS[name])):
        try:
            RESOURCE_TYPES[kind].actions(prop)
        except KeyError:
            missing.append((kind, prop))
    assert not missing, (
        f"add to permissions.resources what the launch role needs for: {sorted(missing, key=str)}"
    )


@pytest.mark.parametrize("name", sorted(DEFAULT_LAUNCH_ROLE_CONFIGS))
def test_default_launch_role_can_provision_every_variant(name: str) -> None:
    needed = needed_actions(template_of(ALL_CONFIGS[name]))
    assert not [a for a in needed if not launch_role_allows(a)], sorted(needed)


def test_own_launch_role_options_are_exactly_what_the_default_role_lacks() -> None:
    lacking = {a for a in needed_actions(template_of(OWN_LAUNCH_ROLE)) if not launch_role_allows(a)}
    assert lacking == {"s3:PutBucketVersioning", "kms:DescribeKey"}


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
