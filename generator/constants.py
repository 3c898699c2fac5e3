"""The contract: names several parts must agree on, free of troposphere so that all may import it.

The generator builds the template from these; `sm-mlops`, the demo, the bench and the tests find what the
template made by them: variants and their file names, role names per family, physical names and their length
budgets, parameter names, stage and action names. The project-name rule is
`generator.validation.PROJECT_NAME`.

Logical IDs are AWS's own: renaming one replaces the resource on stack update, so treat a
change here as breaking. Every physical name starts with `sagemaker-`: the Studio launch role may only create
CodeBuild projects, pipelines, rules, functions and buckets whose names carry that prefix.
"""

from __future__ import annotations

from typing import Literal

# --- inputs that physical names are built from --------------------------------------------------------------
PROJECT_NAME_MAX = 32  # SageMaker project names: 1..32 characters
PROJECT_ID_LENGTH = 14  # "p-" + 12 lowercase letters and digits, e.g. p-abcdef123456
LONGEST_PROJECT_NAME = "a" * PROJECT_NAME_MAX
LONGEST_PROJECT_ID = "p-" + "0" * (PROJECT_ID_LENGTH - 2)
LONGEST_REGION = "ap-southeast-10"  # longer than any region today (14 characters), one to spare
LONGEST_ACCOUNT = "0" * 12

# --- variants: template form x role family ------------------------------------------------------------------
Form = Literal["v1", "v2"]  # v1: the walkthrough's Studio form; v2: today's built-in form (one connection)
RoleFamily = Literal["service-catalog", "projects"]
FORMS: tuple[Form, ...] = ("v1", "v2")
ROLE_FAMILIES: tuple[RoleFamily, ...] = ("service-catalog", "projects")
TEMPLATE_STEM = "mlops-third-party-git"


def variant_name(form: str, role_family: str) -> str:
    """`mlops-third-party-git-<form>[-projects-roles]`: the variant's name and its file's stem."""
    return f"{TEMPLATE_STEM}-{form}" + ("-projects-roles" if role_family == "projects" else "")


# --- roles: the template references them, `sm-mlops bootstrap` creates the missing ones ---------------------
SERVICE_ROLE_PATH = "/service-role/"
FAMILY_PREFIX = {
    "service-catalog": "AmazonSageMakerServiceCatalogProducts",
    "projects": "AmazonSageMakerProjects",
}
# The kinds of role a template references, as AWS names them; bootstrap also makes the family's Launch role.
ROLE_KINDS = ("Use", "CodeBuild", "CodePipeline", "Events", "Lambda", "CloudFormation", "Execution")


def role_name(family: str, kind: str) -> str:
    """The role's name without its path; AWS spells the CloudFormation role "...CloudformationRole"."""
    spelled = "Cloudformation" if kind == "CloudFormation" else kind
    return f"{FAMILY_PREFIX[family]}{spelled}Role"


# --- parameter names ----------------------------------------------------------------------------------------
PROJECT_NAME = "SageMakerProjectName"
PROJECT_ID = "SageMakerProjectId"
MODELBUILD = "ModelBuild"
MODELDEPLOY = "ModelDeploy"
REPOS = (MODELBUILD, MODELDEPLOY)
CODE_CONNECTION_ARN = "CodeConnectionArn"  # v2 form: one connection for both repositories


def repo_param(repo: str, field: str) -> str:
    """`ModelBuildCodeRepositoryBranch` and friends (field: Url, Branch, Fullname, ...)."""
    return f"{repo}CodeRepository{field}"


URL = "Url"
BRANCH = "Branch"
FULLNAME = "Fullname"
CONNECTION = "CodestarConnectionArn"
SEED_TOGGLE = "IsSeedcodeRequired"

# --- conditions ---------------------------------------------------------------------------------------------
CONDITION_SEED = {repo: f"CreateResourceFor{repo}SeedcodeCheckin" for repo in REPOS}
CONDITION_ANY_SEED = "CreateResourceForAnySeedCodeCheckin"

# --- logical IDs (AWS's) ------------------------------------------------------------------------------------
ARTIFACT_BUCKET = "MlOpsArtifactsBucket"
BUILD_CACHE_PREFIX = "codebuild-cache"  # the CodeBuild projects' S3 cache, under the artifact bucket
ARTIFACT_BUCKET_POLICY = "MlOpsArtifactsBucketPolicy"
MODELBUILD_PROJECT = "SageMakerModelPipelineBuildProject"
MODELBUILD_PIPELINE = "ModelBuildPipeline"
DEPLOY_RULE = "ModelDeploySageMakerEventRule"
DEPLOY_BUILD_PROJECT = "ModelDeployBuildProject"
DEPLOY_TEST_PROJECT = "ModelDeployTestProject"
MODELDEPLOY_PIPELINE = "ModelDeployPipeline"
CHECKIN_PROJECT = "GitSeedCodeCheckinProject"
CHECKIN_LAMBDA = "GitSeedCodeCheckinProjectTriggerLambda"
CHECKIN_INVOKER = {repo: f"SageMaker{repo}SeedCodeCheckinProjectTriggerLambdaInvoker" for repo in REPOS}
CODE_REPOSITORY = {repo: f"{repo}SagemakerCodeRepository" for repo in REPOS}

# --- physical names, with their budgets (longest name 32, id 14) --------------------------------------------
NAME_ID = "sagemaker-${SageMakerProjectName}-${SageMakerProjectId}"  # 10 + 32 + 1 + 14 = 57
BUCKET_NAME = "sagemaker-project-${SageMakerProjectId}"  # S3 bucket <= 63: 18 + 14 = 32, lowercase id
MODELBUILD_PROJECT_NAME = NAME_ID + "-modelbuild"  # CodeBuild project <= 255: 68
MODELBUILD_PIPELINE_NAME = NAME_ID + "-modelbuild"  # CodePipeline <= 100: 68
DEPLOY_RULE_NAME = NAME_ID + "-model"  # Events rule <= 64: 57 + 6 = 63
DEPLOY_BUILD_PROJECT_NAME = NAME_ID + "-modeldeploy"  # CodeBuild <= 255: 69
DEPLOY_TEST_PROJECT_NAME = NAME_ID + "-testing"  # CodeBuild <= 255: 65
MODELDEPLOY_PIPELINE_NAME = NAME_ID + "-modeldeploy"  # CodePipeline <= 100: 69
STAGING_STACK_NAME = NAME_ID + "-deploy-staging"  # CloudFormation stack <= 128: 72
PROD_STACK_NAME = NAME_ID + "-deploy-prod"  # CloudFormation stack <= 128: 69
CHECKIN_PROJECT_NAME = NAME_ID + "-git-seedcodecheckin"  # CodeBuild <= 255: 77
CHECKIN_LAMBDA_NAME = "sagemaker-${SageMakerProjectId}-git-seedcodecheckin"  # Lambda <= 64: 10 + 14 + 20 = 44
CODE_REPOSITORY_NAME = {  # SageMaker code repository <= 63: 10 + 14 + 12 = 36
    repo: "sagemaker-${SageMakerProjectId}-" + repo.lower() for repo in REPOS
}
MODEL_PACKAGE_GROUP_NAME = "${SageMakerProjectName}-${SageMakerProjectId}"  # created by the seed pipeline
SAGEMAKER_PIPELINE_NAME = NAME_ID  # SageMaker pipeline <= 256
# Our own seed assets: created by `sm-mlops register`; <= 63: 23 + 12 + 1 + 14 (region) = 50.
ASSET_BUCKET_NAME = "sagemaker-mlops-assets-${AWS::AccountId}-${AWS::Region}"
ACCESS_LOG_PREFIX = "access-logs/${SageMakerProjectId}/"  # in the asset bucket: no logging loop
EVENTS_TARGET_ID = "sagemaker-${SageMakerProjectName}-trigger"  # Events target id <= 64: 10 + 32 + 8 = 50

# Budgets per kind of name, as (maximum length, names of that kind).
NAME_BUDGETS: dict[str, int] = {
    "AWS::S3::Bucket": 63,
    "AWS::Events::Rule": 64,
    "AWS::Lambda::Function": 64,
    "AWS::SageMaker::CodeRepository": 63,
    "AWS::CodeBuild::Project": 255,
    "AWS::CodePipeline::Pipeline": 100,
    "AWS::CloudFormation::Stack": 128,
    "EventsTargetId": 64,
}

# --- stages, actions, artifacts -----------------------------------------------------------------------------
MODELBUILD_SOURCE_ACTION = "ModelBuildWorkflowCode"
MODELBUILD_BUILD_ACTION = "BuildAndExecuteSageMakerPipeline"
MODELDEPLOY_SOURCE_ACTION = "ModelDeployInfraCode"
MODELDEPLOY_BUILD_ACTION = "BuildDeploymentTemplates"
STAGING_STAGE = "DeployStaging"
STAGING_DEPLOY_ACTION = "DeployResourcesStaging"
STAGING_TEST_ACTION = "TestStaging"
APPROVAL_ACTION = "ApproveDeployment"
APPROVAL_MESSAGE = "Approve this model for Production"
PROD_STAGE = "DeployProd"
PROD_DEPLOY_ACTION = "DeployResourcesProd"
SOURCE_ARTIFACT = "SourceArtifact"
BUILD_ARTIFACT = "BuildArtifact"
MODELBUILD_SOURCE_ARTIFACT = "ModelBuildSourceArtifact"

EXPORT_TEMPLATE_NAME = "template-export.yml"
EXPORT_TEMPLATE_STAGING_CONFIG = "staging-config-export.json"
EXPORT_TEMPLATE_PROD_CONFIG = "prod-config-export.json"

# --- build environments -------------------------------------------------------------------------------------
BUILD_IMAGE = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
LAMBDA_RUNTIME = "python3.12"
LAMBDA_TIMEOUT = 900  # seconds: Lambda's maximum; the handler answers CloudFormation before it runs out
CHECKIN_BUILD_TIMEOUT = 12  # minutes: ends before the Lambda (15 min) stops waiting, so its log says why

DESCRIPTION = (
    "MLOps template for model building, training, and deployment with third-party Git repositories "
    "using CodePipeline"
)
