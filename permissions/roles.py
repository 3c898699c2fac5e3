"""What each role of a family, and the data scientist's Studio role, needs for every call its steps make.

Keyed by role kind, spelled as generator.constants.ROLE_KINDS spells them, plus "Launch" (the family's launch
role) and "Studio" (the data scientist's SageMaker execution role, not a role of the family).
"""

from __future__ import annotations

from permissions.needs import (
    PROJECT_RESOURCE,
    PROJECT_TAGS,
    SAGEMAKER_TAG_KEYS,
    TAGGED_CONNECTION,
    Context,
    Need,
    arn,
    bucket,
    pass_role,
)
from permissions.resources import DEPLOY_RESOURCES, PRODUCT_RESOURCES, resource_needs

LAUNCH, STUDIO = "Launch", "Studio"
# The family's kinds in the order `sm-mlops bootstrap` makes them; a test holds them equal to generator's.
FAMILY_KINDS = (LAUNCH, "Use", "CodeBuild", "CodePipeline", "Events", "Lambda", "CloudFormation", "Execution")
KINDS = (*FAMILY_KINDS, STUDIO)

PRODUCT_STACK = arn("cloudformation", "stack/{product_stack}/*")
ARTIFACTS = bucket("{artifact_bucket}")
ASSETS = bucket("{asset_bucket}")
PIPELINE = arn("sagemaker", "pipeline/{sagemaker_pipeline}")
EXECUTION_ID = "0123456789ab"
EXECUTION = arn("sagemaker", f"pipeline/{{sagemaker_pipeline}}/execution/{EXECUTION_ID}")
# SageMaker Pipelines names a step's job pipelines-<execution id>-<step name>-<random>.
JOB = f"pipelines-{EXECUTION_ID}-TrainAbaloneModel-0a1b2c"
MODEL_PACKAGE = arn("sagemaker", "model-package/{model_package_group}/1")
MODEL_PACKAGE_GROUP = arn("sagemaker", "model-package-group/{model_package_group}")
PRODUCT = arn("catalog", "product/{product_id}")


def _logs(group: str, why: str) -> tuple[Need, ...]:
    """Writing a log group's streams (CodeBuild, Lambda and SageMaker jobs log as the role they run as)."""
    group_arn = arn("logs", f"log-group:{group}")
    stream_arn = arn("logs", f"log-group:{group}:log-stream:example")
    return (
        Need("logs:CreateLogGroup", group_arn, why),
        Need("logs:CreateLogStream", stream_arn, why),
        Need("logs:PutLogEvents", stream_arn, why),
    )


def _use_connection(why: str) -> Need:
    return Need(
        "{connections}:UseConnection",
        "{connection}",
        why,
        (TAGGED_CONNECTION, Context("{connections}:FullRepositoryId", ("{full_repository}",))),
    )


def _stack_ops(stack: str, why: str) -> tuple[Need, ...]:
    stack_arn = arn("cloudformation", f"stack/{{{stack}}}/*")
    return tuple(
        Need(f"cloudformation:{op}", stack_arn, why)
        for op in ("DescribeStacks", "CreateStack", "UpdateStack", "DeleteStack")
    )


LAUNCH_NEEDS = (
    # Service Catalog provisions the product's stack as the launch role, from its own tagged template copy.
    Need(
        "s3:GetObject",
        "arn:{partition}:s3:::{servicecatalog_template}",
        "Service Catalog's copy of the product's template",
        (Context("s3:ExistingObjectTag/servicecatalog:provisioning", ("true",)),),
    ),
    Need("cloudformation:GetTemplateSummary", "*", "Service Catalog reads the template's parameters"),
    Need("cloudformation:CreateStack", PRODUCT_STACK, "provision the product", PROJECT_TAGS),
    Need("cloudformation:UpdateStack", PRODUCT_STACK, "`sm-mlops project update`"),
    Need("cloudformation:DeleteStack", PRODUCT_STACK, "`sm-mlops project delete`"),
    Need("cloudformation:DescribeStacks", PRODUCT_STACK, "Service Catalog follows the stack"),
    Need("cloudformation:DescribeStackEvents", PRODUCT_STACK, "Service Catalog reports why a stack failed"),
)

CODEBUILD_NEEDS = (
    *(
        need
        for project in (
            "modelbuild_project",
            "deploy_build_project",
            "deploy_test_project",
            "checkin_project",
        )
        for need in _logs(f"/aws/codebuild/{{{project}}}", "every build writes its log")
    ),
    Need("s3:GetObject", ARTIFACTS + "/{modelbuild_pipeline}/ModelBuildS/source.zip", "the source artifact"),
    Need("s3:PutObject", ARTIFACTS + "/{modeldeploy_pipeline}/BuildArtif/build.zip", "the build artifact"),
    Need("s3:GetObject", ARTIFACTS + "/codebuild-cache/example.zip", "the build's S3 cache"),
    Need("s3:PutObject", ARTIFACTS + "/codebuild-cache/example.zip", "the build's S3 cache"),
    # The seed check-in build: the bootstrap (its source, one object version) and the seed zip, then git push.
    Need("s3:GetObject", ASSETS + "/{bootstrap_key}", "the check-in build's source"),
    Need("s3:GetObjectVersion", ASSETS + "/{bootstrap_key}", "the check-in build's pinned source version"),
    Need("s3:GetObject", ASSETS + "/{seed_key}", "the check-in build copies the seed zip"),
    _use_connection("the check-in build pushes the seed through the connection"),
    # The model build: run-pipeline's SageMaker SDK calls.
    Need("s3:ListBucket", ARTIFACTS, "the SDK checks its default bucket (HeadBucket)"),
    Need(
        "s3:GetObject", ARTIFACTS + "/{project_name}-{project_id}/data/example/abalone.csv", "seed data check"
    ),
    Need(
        "s3:PutObject",
        ARTIFACTS + "/{project_name}-{project_id}/data/example/abalone.csv",
        "seed data upload",
    ),
    Need(
        "s3:PutObject", ARTIFACTS + "/{sagemaker_pipeline}/code/example/preprocess.py", "the SDK uploads code"
    ),
    Need("sagemaker:CreatePipeline", PIPELINE, "Pipeline.upsert creates the pipeline", PROJECT_TAGS),
    Need("sagemaker:AddTags", PIPELINE, "Pipeline.upsert tags the pipeline", PROJECT_TAGS),
    Need("sagemaker:UpdatePipeline", PIPELINE, "Pipeline.upsert updates an existing pipeline"),
    Need("sagemaker:ListTags", PIPELINE, "Pipeline.upsert reads an existing pipeline's tags"),
    Need("sagemaker:DescribePipeline", PIPELINE, "the SDK reads the pipeline back"),
    Need("sagemaker:StartPipelineExecution", PIPELINE, "Pipeline.start"),
    Need("sagemaker:DescribePipelineExecution", EXECUTION, "run-pipeline waits for the execution"),
    Need("sagemaker:ListPipelineExecutionSteps", EXECUTION, "run-pipeline reports failed steps"),
    pass_role("Execution", "sagemaker.amazonaws.com", "the pipeline runs as the execution role"),
    # The model deploy build (build.py) and the staging test (test/test.py).
    Need(
        "sagemaker:ListModelPackages",
        arn("sagemaker", "model-package/*"),
        "build.py lists the model versions",
    ),
    Need("sagemaker:DescribeModelPackage", MODEL_PACKAGE, "build.py reads the approved version"),
    Need("sagemaker:DescribeEndpoint", arn("sagemaker", "endpoint/{staging_endpoint}"), "test.py"),
    Need("sagemaker:InvokeEndpoint", arn("sagemaker", "endpoint/{staging_endpoint}"), "test.py"),
)

CODEPIPELINE_NEEDS = (
    _use_connection("the source action reads the repository through the connection"),
    Need(
        "s3:PutObject",
        ARTIFACTS + "/{modelbuild_pipeline}/ModelBuildS/source.zip",
        "store the source artifact",
    ),
    Need(
        "s3:GetObject",
        ARTIFACTS + "/{modeldeploy_pipeline}/BuildArtif/build.zip",
        "the deploy actions' input",
    ),
    Need(
        "s3:GetObjectVersion",
        ARTIFACTS + "/{modeldeploy_pipeline}/BuildArtif/build.zip",
        "the same, versioned",
    ),
    *(
        Need(
            f"codebuild:{op}",
            arn("codebuild", f"project/{{{project}}}"),
            "the build and test actions",
            PROJECT_RESOURCE,
        )
        for project in ("modelbuild_project", "deploy_build_project", "deploy_test_project")
        for op in ("StartBuild", "BatchGetBuilds")
    ),
    *_stack_ops("staging_stack", "the DeployResourcesStaging action"),
    *_stack_ops("prod_stack", "the DeployResourcesProd action"),
    pass_role(
        "CloudFormation", "cloudformation.amazonaws.com", "the deploy stacks run as the CloudFormation role"
    ),
)

EVENTS_NEEDS = (
    Need(
        "codepipeline:StartPipelineExecution",
        arn("codepipeline", "{modeldeploy_pipeline}"),
        "an approved model version starts the deploy pipeline",
    ),
)

LAMBDA_NEEDS = (
    *_logs("/aws/lambda/{checkin_lambda}", "the seeding function writes its log"),
    Need("s3:GetObject", ASSETS + "/{seed_key}", "the function checks the seed zip's hash"),
    Need("s3:GetObject", ASSETS + "/{bootstrap_key}", "the function checks the bootstrap's hash"),
    Need("s3:GetObjectVersion", ASSETS + "/{bootstrap_key}", "the function pins the bootstrap's version"),
    # The product's stack tags the check-in project with the project's name: a resource tag of these requests.
    *(
        Need(f"codebuild:{op}", arn("codebuild", "project/{checkin_project}"), why, PROJECT_RESOURCE)
        for op, why in (
            ("StartBuild", "start the check-in build"),
            ("BatchGetBuilds", "follow the check-in build"),
        )
    ),
)

EXECUTION_NEEDS = (
    *_logs("/aws/sagemaker/ProcessingJobs", "processing jobs write their logs"),
    *_logs("/aws/sagemaker/TrainingJobs", "training jobs write their logs"),
    *_logs("/aws/sagemaker/Endpoints/{staging_endpoint}", "the endpoint writes its log"),
    Need("s3:ListBucket", ARTIFACTS, "jobs list their inputs"),
    Need("s3:GetObject", ARTIFACTS + "/{project_name}-{project_id}/data/example/abalone.csv", "job inputs"),
    Need("s3:PutObject", ARTIFACTS + "/{sagemaker_pipeline}/example/output/model.tar.gz", "job outputs"),
    Need(
        "s3:GetObject",
        ARTIFACTS + "/{sagemaker_pipeline}/example/output/model.tar.gz",
        "the endpoint's model",
    ),
    Need("s3:PutObject", ARTIFACTS + "/datacapture-staging/example.jsonl", "the endpoint's data capture"),
    *(
        Need(f"sagemaker:{op}", arn("sagemaker", f"{job}/{JOB}"), "a step of the SageMaker pipeline")
        for job, ops in (
            ("processing-job", ("CreateProcessingJob", "DescribeProcessingJob")),
            ("training-job", ("CreateTrainingJob", "DescribeTrainingJob")),
        )
        for op in ops
    ),
    Need(
        "sagemaker:AddTags",
        arn("sagemaker", f"training-job/{JOB}"),
        "the pipeline tags its jobs",
        (SAGEMAKER_TAG_KEYS,),
    ),
    Need("sagemaker:CreateModelPackageGroup", MODEL_PACKAGE_GROUP, "the first registration makes the group"),
    Need("sagemaker:DescribeModelPackageGroup", MODEL_PACKAGE_GROUP, "the register step checks the group"),
    Need("sagemaker:CreateModelPackage", MODEL_PACKAGE, "the register step adds a version"),
    pass_role("Execution", "sagemaker.amazonaws.com", "the pipeline passes its role to its jobs"),
)

STUDIO_NEEDS = (
    Need(
        "sagemaker:CreateProject",
        arn("sagemaker", "project/{project_name}"),
        "create the project",
        PROJECT_TAGS,
    ),
    Need("sagemaker:DescribeProject", arn("sagemaker", "project/{project_name}"), "follow the project"),
    Need("sagemaker:UpdateProject", arn("sagemaker", "project/{project_name}"), "`sm-mlops project update`"),
    Need("servicecatalog:SearchProducts", "*", "find the product, as Studio does"),
    Need("servicecatalog:ListLaunchPaths", PRODUCT, "the launch path the portfolio gives"),
    Need("servicecatalog:DescribeProvisioningParameters", PRODUCT, "the product version's parameters"),
    Need("servicecatalog:ProvisionProduct", PRODUCT, "SageMaker provisions the product as the caller"),
    Need("sagemaker:ListModelPackages", arn("sagemaker", "model-package/*"), "`sm-mlops model approve`"),
    Need("sagemaker:UpdateModelPackage", MODEL_PACKAGE, "`sm-mlops model approve`"),
    Need(
        "codepipeline:GetPipelineState",
        arn("codepipeline", "{modeldeploy_pipeline}"),
        "`sm-mlops deploy promote`",
    ),
    Need(
        "codepipeline:PutApprovalResult",
        arn("codepipeline", "{modeldeploy_pipeline}/{approval_stage}/{approval_action}"),
        "`sm-mlops deploy promote`",
    ),
    Need(
        "sagemaker:InvokeEndpoint",
        arn("sagemaker", "endpoint/{prod_endpoint}"),
        "the data scientist calls the endpoint",
    ),
)


# `sm-mlops project status` and `project delete` (steps 3 and 6), as the data scientist.
STATUS = "`sm-mlops project status`"
DELETE = "`sm-mlops project delete`"
TRIAL = EXECUTION_ID  # SageMaker Pipelines names an execution's trial after the execution
STUDIO_CLEANUP_NEEDS = (
    Need("sagemaker:ListPipelineExecutions", PIPELINE, STATUS),
    Need("sagemaker:DescribeEndpoint", arn("sagemaker", "endpoint/{staging_endpoint}"), STATUS),
    Need("sagemaker:DescribeEndpointConfig", arn("sagemaker", "endpoint-config/{endpoint_config}"), STATUS),
    Need("sagemaker:DeleteProject", arn("sagemaker", "project/{project_name}"), DELETE),
    Need("events:DescribeRule", arn("events", "rule/{deploy_rule}"), DELETE),
    Need("events:DisableRule", arn("events", "rule/{deploy_rule}"), DELETE + " stops new deployments first"),
    *(
        Need("codepipeline:StopPipelineExecution", arn("codepipeline", f"{{{pipeline}}}"), DELETE)
        for pipeline in ("modelbuild_pipeline", "modeldeploy_pipeline")
    ),
    Need("sagemaker:DescribePipeline", PIPELINE, DELETE),
    Need("sagemaker:DescribePipelineExecution", EXECUTION, DELETE),
    Need("sagemaker:ListPipelineExecutionSteps", EXECUTION, DELETE + " finds the jobs' log streams"),
    Need("sagemaker:StopPipelineExecution", EXECUTION, DELETE),
    Need("sagemaker:DeletePipeline", PIPELINE, DELETE),
    *(
        Need(f"cloudformation:{op}", arn("cloudformation", f"stack/{{{stack}}}/*"), DELETE)
        for stack in ("staging_stack", "prod_stack")
        for op in ("DescribeStacks", "DeleteStack")
    ),
    Need("sagemaker:DeleteModelPackage", MODEL_PACKAGE, DELETE),
    Need("sagemaker:DescribeModelPackageGroup", MODEL_PACKAGE_GROUP, DELETE),
    Need("sagemaker:DeleteModelPackageGroup", MODEL_PACKAGE_GROUP, DELETE),
    Need("sagemaker:DescribeExperiment", arn("sagemaker", "experiment/{sagemaker_pipeline}"), DELETE),
    Need("sagemaker:DeleteExperiment", arn("sagemaker", "experiment/{sagemaker_pipeline}"), DELETE),
    Need("sagemaker:DeleteTrial", arn("sagemaker", f"experiment-trial/{TRIAL}"), DELETE),
    Need("sagemaker:DeleteTrialComponent", arn("sagemaker", f"experiment-trial-component/{TRIAL}"), DELETE),
    Need("s3:GetBucketTagging", ARTIFACTS, DELETE + " checks the bucket is the project's"),
    Need("s3:ListBucketVersions", ARTIFACTS, DELETE),
    Need("s3:DeleteObject", ARTIFACTS + "/{sagemaker_pipeline}/example/output/model.tar.gz", DELETE),
    Need("s3:DeleteObjectVersion", ARTIFACTS + "/{sagemaker_pipeline}/example/output/model.tar.gz", DELETE),
    Need("s3:DeleteBucket", ARTIFACTS, DELETE),
    Need("s3:ListBucketVersions", ASSETS, DELETE + " finds the project's access logs"),
    Need("s3:DeleteObjectVersion", ASSETS + "/access-logs/{project_id}/example", DELETE),
    Need("logs:DescribeLogGroups", "*", DELETE + " finds the project's log groups"),
    Need("logs:DeleteLogGroup", arn("logs", "log-group:/aws/codebuild/{modelbuild_project}"), DELETE),
    Need(
        "logs:DeleteLogStream",
        arn("logs", f"log-group:/aws/sagemaker/TrainingJobs:log-stream:{JOB}/algo-1-0123456789"),
        DELETE + " removes the jobs' log streams",
    ),
)


def _made(resources: tuple) -> tuple[Need, ...]:
    return tuple(n for made in resources for n in resource_needs(made))


ROLE_NEEDS: dict[str, tuple[Need, ...]] = {
    LAUNCH: LAUNCH_NEEDS + _made(PRODUCT_RESOURCES),
    "Use": (),  # no template of this project runs anything as the Use role
    "CodeBuild": CODEBUILD_NEEDS,
    "CodePipeline": CODEPIPELINE_NEEDS,
    "Events": EVENTS_NEEDS,
    "Lambda": LAMBDA_NEEDS,
    "CloudFormation": _made(DEPLOY_RESOURCES),
    "Execution": EXECUTION_NEEDS,
    STUDIO: STUDIO_NEEDS + STUDIO_CLEANUP_NEEDS,
}


def needs(kind: str) -> tuple[Need, ...]:
    """The needs of one role kind, each (action, resource, context) once, in the table's order."""
    seen: dict[tuple, Need] = {}
    for need in ROLE_NEEDS[kind]:
        seen.setdefault((need.action, need.resource, need.context), need)
    return tuple(seen.values())
