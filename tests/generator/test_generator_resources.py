"""Resources as AWS's template has them: logical IDs, types, names, stages, actions, environments, seeding."""

from __future__ import annotations

from typing import Any

import pytest
from generator_helpers import CONNECTION_ARN, Evaluator, example_values, template_of

from generator.config import VARIANTS, ConfigError, TemplateConfig
from generator.constants import ROLE_KINDS
from generator.roles import role_name
from generator.seeding import BUILD_VARIABLES, asset_keys
from seeding import function
from seeding.assets import BOOTSTRAP, MODELBUILD, MODELDEPLOY, build_assets

EXPECTED_TYPES = {
    "MlOpsArtifactsBucket": "AWS::S3::Bucket",
    "MlOpsArtifactsBucketPolicy": "AWS::S3::BucketPolicy",
    "SageMakerModelPipelineBuildProject": "AWS::CodeBuild::Project",
    "ModelBuildPipeline": "AWS::CodePipeline::Pipeline",
    "ModelDeploySageMakerEventRule": "AWS::Events::Rule",
    "ModelDeployBuildProject": "AWS::CodeBuild::Project",
    "ModelDeployTestProject": "AWS::CodeBuild::Project",
    "ModelDeployPipeline": "AWS::CodePipeline::Pipeline",
    "GitSeedCodeCheckinProject": "AWS::CodeBuild::Project",
    "GitSeedCodeCheckinProjectTriggerLambda": "AWS::Lambda::Function",
    "SageMakerModelBuildSeedCodeCheckinProjectTriggerLambdaInvoker": "AWS::CloudFormation::CustomResource",
    "SageMakerModelDeploySeedCodeCheckinProjectTriggerLambdaInvoker": "AWS::CloudFormation::CustomResource",
    "ModelBuildSagemakerCodeRepository": "AWS::SageMaker::CodeRepository",
    "ModelDeploySagemakerCodeRepository": "AWS::SageMaker::CodeRepository",
}
NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SageMaker::CodeRepository": "CodeRepositoryName",
}
EXPECTED_NAMES = {  # with project name "demo" and id "p-abcdef123456"
    "MlOpsArtifactsBucket": "sagemaker-project-p-abcdef123456",
    "SageMakerModelPipelineBuildProject": "sagemaker-demo-p-abcdef123456-modelbuild",
    "ModelBuildPipeline": "sagemaker-demo-p-abcdef123456-modelbuild",
    "ModelDeploySageMakerEventRule": "sagemaker-demo-p-abcdef123456-model",
    "ModelDeployBuildProject": "sagemaker-demo-p-abcdef123456-modeldeploy",
    "ModelDeployTestProject": "sagemaker-demo-p-abcdef123456-testing",
    "ModelDeployPipeline": "sagemaker-demo-p-abcdef123456-modeldeploy",
    "GitSeedCodeCheckinProject": "sagemaker-demo-p-abcdef123456-git-seedcodecheckin",
    "GitSeedCodeCheckinProjectTriggerLambda": "sagemaker-p-abcdef123456-git-seedcodecheckin",
    "ModelBuildSagemakerCodeRepository": "sagemaker-p-abcdef123456-modelbuild",
    "ModelDeploySagemakerCodeRepository": "sagemaker-p-abcdef123456-modeldeploy",
}
PROXY_PREFIX = (
    "https://codeconnections.eu-west-1.amazonaws.com/git-http/123456789012/eu-west-1/"
    "0a1b2c3d-1111-2222-3333-444455556666/"
)


def evaluated(variant: str, **overrides: str) -> dict[str, dict[str, Any]]:
    template = template_of(variant)
    return Evaluator(template, example_values(VARIANTS[variant].form, **overrides)).active_resources()


def stages(pipeline: dict[str, Any]) -> list[tuple[str, list[tuple[str, str, int]]]]:
    return [
        (
            stage["Name"],
            [(a["Name"], a["ActionTypeId"]["Provider"], a.get("RunOrder", 1)) for a in stage["Actions"]],
        )
        for stage in pipeline["Properties"]["Stages"]
    ]


def env_of(resource: dict[str, Any]) -> dict[str, str]:
    return {
        e["Name"]: e["Value"] for e in resource["Properties"]["Environment"].get("EnvironmentVariables", [])
    }


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_resource_set_and_types_are_aws_logical_ids(variant: str) -> None:
    resources = template_of(variant)["Resources"]
    assert {k: r["Type"] for k, r in resources.items()} == EXPECTED_TYPES


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_physical_names(variant: str) -> None:
    resources = evaluated(variant)
    names = {
        logical_id: r["Properties"][NAME_PROPERTY[r["Type"]]]
        for logical_id, r in resources.items()
        if r["Type"] in NAME_PROPERTY
    }
    assert names == EXPECTED_NAMES


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_model_build_pipeline(variant: str) -> None:
    resources = evaluated(variant)
    pipeline = resources["ModelBuildPipeline"]["Properties"]
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["ArtifactStore"] == {"Type": "S3", "Location": "<Ref MlOpsArtifactsBucket>"}
    assert stages(resources["ModelBuildPipeline"]) == [
        ("Source", [("ModelBuildWorkflowCode", "CodeStarSourceConnection", 1)]),
        ("Build", [("BuildAndExecuteSageMakerPipeline", "CodeBuild", 1)]),
    ]
    source = pipeline["Stages"][0]["Actions"][0]["Configuration"]
    assert source == {
        "ConnectionArn": CONNECTION_ARN,
        "FullRepositoryId": "my-org/demo-modelbuild",
        "BranchName": "main",
    }
    project = resources["SageMakerModelPipelineBuildProject"]["Properties"]
    assert (project["Source"]["BuildSpec"], project["TimeoutInMinutes"]) == ("codebuild-buildspec.yml", 480)
    assert env_of(resources["SageMakerModelPipelineBuildProject"]) == {
        "SAGEMAKER_PROJECT_NAME": "demo",
        "SAGEMAKER_PROJECT_ID": "p-abcdef123456",
        "ARTIFACT_BUCKET": "<Ref MlOpsArtifactsBucket>",
        "SAGEMAKER_PIPELINE_NAME": "sagemaker-demo-p-abcdef123456",
        "SAGEMAKER_PIPELINE_ROLE_ARN": "arn:aws:iam::123456789012:role/"
        + role_name(VARIANTS[variant].role_family, "Execution"),
        "AWS_REGION": "eu-west-1",
    }


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_model_deploy_pipeline(variant: str) -> None:
    resources = evaluated(variant)
    assert resources["ModelDeployPipeline"]["Properties"]["PipelineType"] == "V2"
    assert stages(resources["ModelDeployPipeline"]) == [
        ("Source", [("ModelDeployInfraCode", "CodeStarSourceConnection", 1)]),
        ("Build", [("BuildDeploymentTemplates", "CodeBuild", 1)]),
        (
            "DeployStaging",
            [
                ("DeployResourcesStaging", "CloudFormation", 1),
                ("TestStaging", "CodeBuild", 2),
                ("ApproveDeployment", "Manual", 3),
            ],
        ),
        ("DeployProd", [("DeployResourcesProd", "CloudFormation", 1)]),
    ]
    actions = {
        a["Name"]: a for s in resources["ModelDeployPipeline"]["Properties"]["Stages"] for a in s["Actions"]
    }
    assert actions["DeployResourcesStaging"]["Configuration"]["StackName"] == (
        "sagemaker-demo-p-abcdef123456-deploy-staging"
    )
    assert (
        actions["DeployResourcesProd"]["Configuration"]["StackName"]
        == "sagemaker-demo-p-abcdef123456-deploy-prod"
    )
    assert actions["DeployResourcesStaging"]["Configuration"]["TemplateConfiguration"] == (
        "BuildArtifact::staging-config-export.json"
    )
    assert (
        actions["DeployResourcesProd"]["Configuration"]["TemplatePath"]
        == "BuildArtifact::template-export.yml"
    )
    assert actions["ApproveDeployment"]["Configuration"] == {
        "CustomData": "Approve this model for Production"
    }
    test = actions["TestStaging"]
    assert [a["Name"] for a in test["InputArtifacts"]] == ["SourceArtifact", "BuildArtifact"]
    assert test["Configuration"]["PrimarySource"] == "SourceArtifact"
    assert resources["ModelDeployTestProject"]["Properties"]["Source"]["BuildSpec"] == "test/buildspec.yml"
    deploy_env = env_of(resources["ModelDeployBuildProject"])
    assert resources["ModelDeployBuildProject"]["Properties"]["Source"]["BuildSpec"] == "buildspec.yml"
    assert {k: deploy_env[k] for k in deploy_env if k != "MODEL_EXECUTION_ROLE_ARN"} == {
        "SAGEMAKER_PROJECT_NAME": "demo",
        "SAGEMAKER_PROJECT_ID": "p-abcdef123456",
        "ARTIFACT_BUCKET": "<Ref MlOpsArtifactsBucket>",
        "AWS_REGION": "eu-west-1",
        "SOURCE_MODEL_PACKAGE_GROUP_NAME": "demo-p-abcdef123456",
        "EXPORT_TEMPLATE_NAME": "template-export.yml",
        "EXPORT_TEMPLATE_STAGING_CONFIG": "staging-config-export.json",
        "EXPORT_TEMPLATE_PROD_CONFIG": "prod-config-export.json",
    }
    assert deploy_env["MODEL_EXECUTION_ROLE_ARN"].endswith(
        role_name(VARIANTS[variant].role_family, "Execution")
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_approval_rule_starts_the_deploy_pipeline(variant: str) -> None:
    rule = evaluated(variant)["ModelDeploySageMakerEventRule"]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelPackageGroupName": ["demo-p-abcdef123456"],
            "ModelApprovalStatus": [{"anything-but": "PendingManualApproval"}],
        },
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == "arn:aws:codepipeline:eu-west-1:123456789012:<Ref ModelDeployPipeline>"
    assert target["RoleArn"].endswith(role_name(VARIANTS[variant].role_family, "Events"))
    assert rule["State"] == "ENABLED" and "Tags" not in rule


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_seeding_resources_follow_the_design(variant: str) -> None:
    resources = evaluated(variant)
    keys = asset_keys()
    digests = {name: asset.sha256 for name, asset in build_assets().items()}
    checkin = resources["GitSeedCodeCheckinProject"]["Properties"]
    assert checkin["Source"] == {
        "Type": "S3",
        "Location": f"sagemaker-mlops-assets-123456789012-eu-west-1/{keys[BOOTSTRAP]}",
    }
    assert keys[BOOTSTRAP].startswith("seeding/bootstrap-")
    for repo, asset in (("ModelBuild", MODELBUILD), ("ModelDeploy", MODELDEPLOY)):
        props = resources[f"SageMaker{repo}SeedCodeCheckinProjectTriggerLambdaInvoker"]["Properties"]
        assert props == {
            "ServiceToken": "<GetAtt GitSeedCodeCheckinProjectTriggerLambda.Arn>",
            "CodeBuildProjectName": "<Ref GitSeedCodeCheckinProject>",
            "SeedCodeBucket": "sagemaker-mlops-assets-123456789012-eu-west-1",
            "SeedCodeKey": keys[asset],
            "SeedCodeSha256": digests[asset],
            "BootstrapKey": keys[BOOTSTRAP],
            "BootstrapSha256": digests[BOOTSTRAP],
            "RepositoryUrl": PROXY_PREFIX + f"my-org/demo-{repo.lower()}.git",
            "BuildEnvironment": {
                "REPOSITORY_URL": PROXY_PREFIX + f"my-org/demo-{repo.lower()}.git",
                "REPOSITORY_BRANCH": "main",
                "SEED_CODE_S3_URI": f"s3://sagemaker-mlops-assets-123456789012-eu-west-1/{keys[asset]}",
                "SEED_CODE_ID": keys[asset].rsplit("/", 1)[-1],
                "SEED_CODE_SHA256": digests[asset],
            },
        }
        assert set(props) - {"ServiceToken"} == set(function.REQUIRED)  # what the function checks for
        assert set(props["BuildEnvironment"]) == set(BUILD_VARIABLES)
    function_props = resources["GitSeedCodeCheckinProjectTriggerLambda"]["Properties"]
    assert function_props["Handler"] == "index.handler" and function_props["Runtime"].startswith("python3.")
    assert "def handler(event, context" in function_props["Code"]["ZipFile"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_code_repositories_point_at_the_connection_proxy(variant: str) -> None:
    resources = evaluated(variant)
    for repo in ("ModelBuild", "ModelDeploy"):
        git = resources[f"{repo}SagemakerCodeRepository"]["Properties"]["GitConfig"]
        full = f"my-org/demo-{repo.lower()}"
        assert git == {"RepositoryUrl": PROXY_PREFIX + full + ".git", "Branch": "main"}


@pytest.mark.parametrize(
    ("case", "arn", "expected_prefix"),
    [
        (
            "codestar-connections",
            "arn:aws:codestar-connections:us-east-1:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666",
            "https://codestar-connections.us-east-1.amazonaws.com/git-http/111122223333/us-east-1/",
        ),
        (
            "govcloud codeconnections",
            "arn:aws-us-gov:codeconnections:us-gov-west-1:111122223333:connection/0a1b2c3d-1111-2222-3333-444455556666",
            "https://codeconnections.us-gov-west-1.amazonaws.com/git-http/111122223333/us-gov-west-1/",
        ),
    ],
)
def test_code_repository_and_check_in_use_one_url(case: str, arn: str, expected_prefix: str) -> None:
    for variant in VARIANTS:
        form = VARIANTS[variant].form
        connection = (
            {"CodeConnectionArn": arn}
            if form == "v2"
            else {f"{r}CodeRepositoryCodestarConnectionArn": arn for r in ("ModelBuild", "ModelDeploy")}
        )
        resources = Evaluator(template_of(variant), example_values(form, **connection)).active_resources()
        url = resources["ModelBuildSagemakerCodeRepository"]["Properties"]["GitConfig"]["RepositoryUrl"]
        check_in = resources["SageMakerModelBuildSeedCodeCheckinProjectTriggerLambdaInvoker"]["Properties"]
        assert url == check_in["RepositoryUrl"] == check_in["BuildEnvironment"]["REPOSITORY_URL"]
        assert url == expected_prefix + "0a1b2c3d-1111-2222-3333-444455556666/my-org/demo-modelbuild.git"


@pytest.mark.parametrize(
    ("case", "off", "kept"),
    [
        ("model build sample code off", "ModelBuild", "ModelDeploy"),
        ("model deploy sample code off", "ModelDeploy", "ModelBuild"),
    ],
)
def test_sample_code_off_drops_only_that_check_in(case: str, off: str, kept: str) -> None:
    for variant in (n for n, cfg in VARIANTS.items() if cfg.form == "v1"):
        resources = evaluated(variant, **{f"{off}CodeRepositoryIsSeedcodeRequired": "false"})
        assert f"SageMaker{off}SeedCodeCheckinProjectTriggerLambdaInvoker" not in resources
        assert f"SageMaker{kept}SeedCodeCheckinProjectTriggerLambdaInvoker" in resources
        assert {"GitSeedCodeCheckinProject", "GitSeedCodeCheckinProjectTriggerLambda"} <= set(resources)
        git = resources[f"{off}SagemakerCodeRepository"]["Properties"]["GitConfig"]
        assert git["RepositoryUrl"] == PROXY_PREFIX + f"my-org/demo-{off.lower()}.git"


def test_sample_code_off_for_both_creates_no_seeding_at_all() -> None:
    off = {f"{r}CodeRepositoryIsSeedcodeRequired": "false" for r in ("ModelBuild", "ModelDeploy")}
    resources = evaluated("mlops-third-party-git-v1", **off)
    assert not {k for k in resources if "SeedCode" in k}
    assert {"ModelBuildSagemakerCodeRepository", "ModelDeploySagemakerCodeRepository"} <= set(resources)


@pytest.mark.parametrize("variant", [n for n, cfg in VARIANTS.items() if cfg.form == "v2"])
def test_v2_always_seeds_both_repositories(variant: str) -> None:
    template = template_of(variant)
    assert not [k for k, r in template["Resources"].items() if "Condition" in r]


def role_arns_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [arn for value in node.values() for arn in role_arns_in(value)]
    if isinstance(node, list):
        return [arn for value in node for arn in role_arns_in(value)]
    return [node] if isinstance(node, str) and ":iam::" in node and ":role/" in node else []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_one_role_family_and_no_iam_resources(variant: str) -> None:
    family = VARIANTS[variant].role_family
    resources = evaluated(variant)
    assert not [k for k, r in resources.items() if r["Type"].startswith("AWS::IAM::")]
    arns = role_arns_in(resources)
    allowed = {f"arn:aws:iam::123456789012:role/{role_name(family, kind)}" for kind in ROLE_KINDS}
    assert arns and set(arns) <= allowed, sorted(set(arns) - allowed)


@pytest.mark.parametrize(
    ("family", "kind", "name"),
    [
        ("service-catalog", "CodeBuild", "service-role/AmazonSageMakerServiceCatalogProductsCodeBuildRole"),
        (
            "service-catalog",
            "CloudFormation",
            "service-role/AmazonSageMakerServiceCatalogProductsCloudformationRole",
        ),
        ("service-catalog", "Use", "service-role/AmazonSageMakerServiceCatalogProductsUseRole"),
        ("projects", "Execution", "service-role/AmazonSageMakerProjectsExecutionRole"),
        ("projects", "Events", "service-role/AmazonSageMakerProjectsEventsRole"),
    ],
)
def test_role_names_as_aws_spells_them(family: str, kind: str, name: str) -> None:
    assert role_name(family, kind) == name


@pytest.mark.parametrize(
    ("case", "kwargs", "field"),
    [
        ("explicit roles", {"role_arns": {"CodeBuild": "arn:aws:iam::123456789012:role/mine"}}, "role_arns"),
        ("versioning", {"bucket_versioning": True}, "bucket_versioning"),
        ("kms", {"kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abc"}, "kms_key_arn"),
        (
            "unknown role kind",
            {"own_launch_role": True, "role_arns": {"Builder": "arn:aws:iam::1:role/x"}},
            "role_arns",
        ),
        ("not a role arn", {"own_launch_role": True, "role_arns": {"Lambda": "my-role"}}, "role_arns"),
        ("unknown form", {"form": "v3"}, "form"),
        ("unknown family", {"role_family": "studio"}, "role_family"),
    ],
)
def test_bad_config_is_refused_naming_the_field(case: str, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        TemplateConfig(**kwargs)


def test_own_launch_role_options_render_and_say_so() -> None:
    config = TemplateConfig(
        own_launch_role=True,
        role_arns={"CodeBuild": "arn:aws:iam::123456789012:role/my-codebuild"},
        bucket_versioning=True,
        kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d",
    )
    template = template_of(config)
    assert "launch role of your own" in template["Description"]
    assert "explicit role ARNs" in template["Description"]
    resources = Evaluator(template, example_values("v1")).active_resources()
    assert resources["SageMakerModelPipelineBuildProject"]["Properties"]["ServiceRole"] == (
        "arn:aws:iam::123456789012:role/my-codebuild"
    )
    bucket = resources["MlOpsArtifactsBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d",
    }
    store = resources["ModelBuildPipeline"]["Properties"]["ArtifactStore"]
    assert store["EncryptionKey"]["Id"].startswith("arn:aws:kms:")
    for variant in VARIANTS:
        assert "launch role of your own" not in template_of(variant)["Description"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_pipelines_wait_for_the_seed_only_where_it_always_runs(variant: str) -> None:
    resources = template_of(variant)["Resources"]
    expected = {
        "ModelBuildPipeline": ["SageMakerModelBuildSeedCodeCheckinProjectTriggerLambdaInvoker"],
        "ModelDeployPipeline": ["SageMakerModelDeploySeedCodeCheckinProjectTriggerLambdaInvoker"],
    }
    for pipeline, invokers in expected.items():
        depends = resources[pipeline].get("DependsOn")
        assert depends == (invokers if VARIANTS[variant].form == "v2" else None)
