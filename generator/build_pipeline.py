"""Model build: the CodeBuild project that runs the SageMaker pipeline, and the pipeline that triggers it."""

from __future__ import annotations

from troposphere import AWSObject, Ref, Sub, Template
from troposphere import codebuild as cb
from troposphere import codepipeline as cp
from troposphere.s3 import Bucket

from generator import constants as c
from generator.config import TemplateConfig
from generator.parameters import Inputs, RepoInputs
from generator.roles import role_arn


def env(name: str, value: object) -> cb.EnvironmentVariable:
    return cb.EnvironmentVariable(Name=name, Type="PLAINTEXT", Value=value)


def project_env(inputs: Inputs) -> list[cb.EnvironmentVariable]:
    """Variables every build of the project sees."""
    return [
        env("SAGEMAKER_PROJECT_NAME", Ref(inputs.project_name)),
        env("SAGEMAKER_PROJECT_ID", Ref(inputs.project_id)),
        env("AWS_REGION", Ref("AWS::Region")),
    ]


def pipeline_project(
    title: str,
    name: str,
    buildspec: str,
    variables: list[cb.EnvironmentVariable],
    config: TemplateConfig,
    **extra: object,
) -> cb.Project:
    """A CodeBuild project run as a CodePipeline action."""
    project = cb.Project(
        title,
        Name=Sub(name),
        ServiceRole=role_arn(config.role_family, "CodeBuild", config.role_arns),
        Artifacts=cb.Artifacts(Type="CODEPIPELINE"),
        Source=cb.Source(Type="CODEPIPELINE", BuildSpec=buildspec),
        # pip's downloads (the buildspec's `cache: paths:`) kept between builds in the project's own bucket,
        # which the CodeBuild role may read and write (sagemaker-*): a warm build downloads no wheel again.
        Cache=cb.ProjectCache(
            Type="S3", Location=Sub(f"${{{c.ARTIFACT_BUCKET}}}/{c.BUILD_CACHE_PREFIX}/{title}")
        ),
        Environment=cb.Environment(
            Type="LINUX_CONTAINER",
            ComputeType=c.COMPUTE_TYPE,
            Image=c.BUILD_IMAGE,
            EnvironmentVariables=sorted(variables, key=lambda variable: variable.Name),
        ),
        **extra,
    )
    if config.kms_key_arn:
        project.EncryptionKey = config.kms_key_arn
    return project


def source_action(name: str, repo: RepoInputs, output: str) -> cp.Actions:
    """Pull the repository through its connection (CodeStarSourceConnection serves both IAM prefixes)."""
    return cp.Actions(
        Name=name,
        ActionTypeId=cp.ActionTypeId(
            Category="Source", Owner="AWS", Provider="CodeStarSourceConnection", Version="1"
        ),
        Configuration={
            "ConnectionArn": Ref(repo.connection),
            "FullRepositoryId": Ref(repo.fullname),
            "BranchName": Ref(repo.branch),
        },
        OutputArtifacts=[cp.OutputArtifacts(Name=output)],
        RunOrder=1,
    )


def build_action(
    name: str, project: AWSObject, inputs: list[str], outputs: list[str], run_order: int = 1, **config: object
) -> cp.Actions:
    """Run a CodeBuild project on the given artifacts."""
    action = cp.Actions(
        Name=name,
        ActionTypeId=cp.ActionTypeId(Category="Build", Owner="AWS", Provider="CodeBuild", Version="1"),
        Configuration={"ProjectName": Ref(project), **config},
        InputArtifacts=[cp.InputArtifacts(Name=artifact) for artifact in inputs],
        RunOrder=run_order,
    )
    if outputs:
        action.OutputArtifacts = [cp.OutputArtifacts(Name=artifact) for artifact in outputs]
    return action


def artifact_store(bucket: Bucket, config: TemplateConfig) -> cp.ArtifactStore:
    store = cp.ArtifactStore(Type="S3", Location=Ref(bucket))
    if config.kms_key_arn:
        store.EncryptionKey = cp.EncryptionKey(Id=config.kms_key_arn, Type="KMS")
    return store


def add_build_pipeline(
    template: Template, config: TemplateConfig, inputs: Inputs, bucket: Bucket
) -> cp.Pipeline:
    """Add the model build CodeBuild project and pipeline (Source → Build)."""
    variables = project_env(inputs) + [
        env("ARTIFACT_BUCKET", Ref(bucket)),
        env("SAGEMAKER_PIPELINE_NAME", Sub(c.SAGEMAKER_PIPELINE_NAME)),
        env("SAGEMAKER_PIPELINE_ROLE_ARN", role_arn(config.role_family, "Execution", config.role_arns)),
    ]
    project = template.add_resource(
        pipeline_project(
            c.MODELBUILD_PROJECT,
            c.MODELBUILD_PROJECT_NAME,
            "codebuild-buildspec.yml",
            variables,
            config,
            Description="Builds the model building workflow code repository, creates the SageMaker Pipeline "
            "and executes it",
            TimeoutInMinutes=480,
        )
    )
    repo = inputs.repos[c.MODELBUILD]
    source = source_action(c.MODELBUILD_SOURCE_ACTION, repo, c.MODELBUILD_SOURCE_ARTIFACT)
    build = build_action(c.MODELBUILD_BUILD_ACTION, project, [c.MODELBUILD_SOURCE_ARTIFACT], [])
    return template.add_resource(
        pipeline(c.MODELBUILD_PIPELINE, c.MODELBUILD_PIPELINE_NAME, bucket, config, [source], [build])
    )


def pipeline(
    logical_id: str,
    name: str,
    bucket: Bucket,
    config: TemplateConfig,
    source: list[cp.Actions],
    build: list[cp.Actions],
    *more: cp.Stages,
) -> cp.Pipeline:
    """A V2 pipeline of the project's: Source, Build, then `more` stages; artifacts in the project bucket."""
    return cp.Pipeline(
        logical_id,
        Name=Sub(name),
        PipelineType="V2",
        RoleArn=role_arn(config.role_family, "CodePipeline", config.role_arns),
        ArtifactStore=artifact_store(bucket, config),
        Stages=[cp.Stages(Name="Source", Actions=source), cp.Stages(Name="Build", Actions=build), *more],
    )
