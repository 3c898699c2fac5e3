"""What exists of one project, by kind, as the AWS APIs show it: what the walkthrough made, and what is left
after `sm-mlops project delete` (empty lists: nothing)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from scripts.cleanup import JOB_LOG_GROUPS, STAGES
from scripts.projects import Names
from scripts.servicecatalog import asset_bucket_name


def _names(call: Callable[[], list[str]]) -> list[str]:
    try:
        return sorted(call())
    except Exception as error:  # noqa: BLE001 - an API the stand-in lacks is shown, not fatal
        return [f"<could not list: {type(error).__name__}: {error}>"]


def inventory(
    client: Callable[[str], Any], name: str, project_id: str, stacks: Collection[str] = ()
) -> dict[str, list[str]]:
    """Every resource of the project the APIs show now, by kind (names carry the id or project name).

    ``client(service)`` gives a boto3 client (a stand-in's `client`, or `sm-mlops`' `Aws.client`); ``stacks``
    are stack names of the project that carry neither (its Service Catalog stack)."""
    c, names = client, Names(name, project_id)
    live = ("CREATE_", "UPDATE_", "ROLLBACK_", "DELETE_IN_PROGRESS", "DELETE_FAILED", "IMPORT_")

    def stacks_now() -> list[str]:
        listed = c("cloudformation").list_stacks()["StackSummaries"]
        return [
            s["StackName"]
            for s in listed
            if s["StackStatus"].startswith(live)
            and (project_id in s["StackName"] or s["StackName"] in stacks)
        ]

    def project() -> list[str]:
        try:
            status = c("sagemaker").describe_project(ProjectName=name)["ProjectStatus"]
        except Exception:  # noqa: BLE001 - gone
            return []
        return [] if status == "DeleteCompleted" else [name]

    def model_versions() -> list[str]:
        groups = [g for g in _names(groups_now) if not g.startswith("<")]
        versions = []
        for group in groups:
            listed = c("sagemaker").list_model_packages(ModelPackageGroupName=group)[
                "ModelPackageSummaryList"
            ]
            versions += [
                p["ModelPackageArn"].rsplit("/", 2)[-2] + "/" + str(p["ModelPackageVersion"]) for p in listed
            ]
        return versions

    def groups_now() -> list[str]:
        listed = c("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
        return [g["ModelPackageGroupName"] for g in listed if project_id in g["ModelPackageGroupName"]]

    def log_groups() -> list[str]:
        groups = c("logs").describe_log_groups()["logGroups"]
        endpoints = tuple(f"/aws/sagemaker/Endpoints/{names.endpoint(stage)}" for stage in STAGES)
        return [
            g["logGroupName"]
            for g in groups
            if project_id in g["logGroupName"] or g["logGroupName"] in endpoints
        ]

    def job_streams() -> list[str]:  # the walkthrough's stand-in runs no other project's jobs
        streams = []
        for group in JOB_LOG_GROUPS.values():
            try:
                listed = c("logs").describe_log_streams(logGroupName=group)["logStreams"]
            except c("logs").exceptions.ResourceNotFoundException:
                continue
            streams += [f"{group}:{s['logStreamName']}" for s in listed]
        return streams

    def trials() -> list[str]:  # the SageMaker pipeline's executions', in its Experiment
        experiment = names.experiment
        return [
            t["TrialName"] for t in c("sagemaker").list_trials(ExperimentName=experiment)["TrialSummaries"]
        ]

    def access_logs() -> list[str]:
        account, region = c("sts").get_caller_identity()["Account"], c("s3").meta.region_name
        bucket = asset_bucket_name(account, region)
        listed = c("s3").list_object_versions(Bucket=bucket, Prefix=names.access_log_prefix)
        return [v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]

    def carrying_id(call: Callable[[], list[Any]], field: str | None = None) -> list[str]:
        """The names (``field`` of each item, or the item) of what ``call`` lists that carry the id."""
        names = [str(item[field] if field else item) for item in call()]
        return [n for n in names if project_id in n]

    sm = c("sagemaker")
    return {
        "project": _names(project),
        "CloudFormation stack": _names(stacks_now),
        "CodePipeline pipeline": _names(
            lambda: carrying_id(lambda: c("codepipeline").list_pipelines()["pipelines"], "name")
        ),
        "CodeBuild project": _names(lambda: carrying_id(lambda: c("codebuild").list_projects()["projects"])),
        "Lambda function": _names(
            lambda: carrying_id(lambda: c("lambda").list_functions()["Functions"], "FunctionName")
        ),
        "EventBridge rule": _names(lambda: carrying_id(lambda: c("events").list_rules()["Rules"], "Name")),
        "SageMaker code repository": _names(
            lambda: carrying_id(
                lambda: sm.list_code_repositories()["CodeRepositorySummaryList"], "CodeRepositoryName"
            )
        ),
        "S3 bucket": _names(lambda: carrying_id(lambda: c("s3").list_buckets()["Buckets"], "Name")),
        "SageMaker pipeline": _names(
            lambda: carrying_id(lambda: sm.list_pipelines()["PipelineSummaries"], "PipelineName")
        ),
        "model package group": _names(groups_now),
        "model version": _names(model_versions),
        "SageMaker endpoint": _names(
            lambda: [
                e["EndpointName"]
                for e in sm.list_endpoints()["Endpoints"]
                if e["EndpointName"].startswith(f"{name}-")
            ]
        ),
        "log group": _names(log_groups),
        "job log stream": _names(job_streams),
        "SageMaker experiment": _names(
            lambda: carrying_id(lambda: sm.list_experiments()["ExperimentSummaries"], "ExperimentName")
        ),
        "SageMaker trial": _names(trials),
        "access log object": _names(access_logs),
    }


def leftovers(found: dict[str, list[str]]) -> dict[str, list[str]]:
    """The kinds of which something is still there."""
    return {kind: names for kind, names in found.items() if names}
