"""`project delete` (walkthrough step 6): everything the project made, in an order nothing can undo.

First what could recreate a resource behind the delete is stopped: the rule that starts the deploy pipeline
on a model approval is disabled, the running CodePipeline and SageMaker pipeline executions are stopped (and
the latter waited for: AWS refuses `DeletePipeline` while one runs). Then the deploy stacks (their endpoints
cost money), the endpoints' log groups, the project (its stack), the log groups of its builds and function,
what the seed's SageMaker pipeline made (its jobs' log streams, its Experiment and Trials, the pipeline, the
model versions and their group), the retained bucket with every object version, and last the bucket's access
logs in the asset bucket. After a pass the plan is made again, until nothing is left.

Only what carries this project's id is touched, and an id is trusted only when no other live project holds
it and the bucket's tags name this project.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from generator.validation import PROJECT_ID
from scripts.common import (
    Aws,
    BadInput,
    CommandError,
    NotFound,
    Waiter,
    error_code,
    is_not_found,
    paginate,
    progress,
)
from scripts.projects import Names, describe
from scripts.servicecatalog import asset_bucket_name

Row = dict[str, str]
STAGES = ("prod", "staging")
RUNNING_SAGEMAKER = ("Executing", "Stopping")
JOB_LOG_GROUPS = {
    "ProcessingJob": "/aws/sagemaker/ProcessingJobs",
    "TrainingJob": "/aws/sagemaker/TrainingJobs",
}
MAX_PASSES = 3
# The tags SageMaker puts on a project's provisioned product, which CloudFormation copies to its bucket.
PROJECT_NAME_TAG, PROJECT_ID_TAG = "sagemaker:project-name", "sagemaker:project-id"
# What a row's action is called before and after it is done.
VERBS = {"disable": "disabled", "stop": "stopped", "delete": "deleted"}


def _row(kind: str, name: str, action: str = "delete") -> Row:
    return {"kind": kind, "name": name, "action": action}


def _quiet_missing(call: Callable[[], Any], default: Any = None) -> Any:
    """``call()``, or ``default`` when what it asks about does not exist."""
    try:
        return call()
    except ClientError as error:
        if is_not_found(error) or error_code(error) in {"ValidationException", "ValidationError"}:
            return default
        raise


def _stack_exists(cfn: Any, stack: str) -> bool:
    stacks = _quiet_missing(lambda: cfn.describe_stacks(StackName=stack)["Stacks"], [])
    return any(s.get("StackStatus") != "DELETE_COMPLETE" for s in stacks)


def _project_status(sagemaker: Any, name: str) -> str | None:
    status = _quiet_missing(lambda: sagemaker.describe_project(ProjectName=name)["ProjectStatus"])
    return None if status in (None, "DeleteCompleted") else str(status)


# --- what exists, in the order it goes ------------------------------------------------------------------


def _what_runs(aws: Aws, names: Names, executions: list[dict[str, Any]]) -> list[Row]:
    events, codepipeline = aws.client("events"), aws.client("codepipeline")
    rows = []
    rule = _quiet_missing(lambda: events.describe_rule(Name=names.deploy_rule))
    if rule and rule.get("State") == "ENABLED":
        rows.append(_row("event rule", names.deploy_rule, "disable"))
    for pipeline in (names.build_pipeline, names.deploy_pipeline):
        runs = _quiet_missing(
            partial(
                paginate,
                codepipeline,
                "list_pipeline_executions",
                "pipelineExecutionSummaries",
                pipelineName=pipeline,
            ),
            [],
        )
        for run in runs:
            if run.get("status") == "InProgress":
                rows.append(_row("pipeline execution", f"{pipeline}/{run['pipelineExecutionId']}", "stop"))
    for execution in executions:
        if execution.get("PipelineExecutionStatus") in RUNNING_SAGEMAKER:
            rows.append(_row("sagemaker pipeline execution", execution["PipelineExecutionArn"], "stop"))
    return rows


def _sagemaker_executions(sagemaker: Any, names: Names) -> list[dict[str, Any]]:
    return list(
        _quiet_missing(
            lambda: paginate(
                sagemaker,
                "list_pipeline_executions",
                "PipelineExecutionSummaries",
                PipelineName=names.sagemaker_pipeline,
            ),
            [],
        )
    )


def _log_groups(logs: Any, prefix: str) -> list[str]:
    groups = paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=prefix)
    return [g["logGroupName"] for g in groups]


def _endpoint_log_groups(aws: Aws, names: Names, stacks: set[str]) -> list[Row]:
    """An endpoint's log group, while its deploy stack is the project's or no endpoint of that name lives."""
    sagemaker, logs = aws.client("sagemaker"), aws.client("logs")
    rows = []
    for stage in STAGES:
        endpoint = names.endpoint(stage)
        group = f"/aws/sagemaker/Endpoints/{endpoint}"
        if group in _log_groups(logs, group) and (
            stage in stacks
            or _quiet_missing(partial(sagemaker.describe_endpoint, EndpointName=endpoint)) is None
        ):
            rows.append(_row("log group", group))
    return rows


def _job_log_streams(aws: Aws, names: Names, executions: list[dict[str, Any]]) -> list[Row]:
    """The log streams of the jobs the project's pipeline ran, in the account's shared job log groups."""
    sagemaker, logs = aws.client("sagemaker"), aws.client("logs")
    rows = []
    for execution in executions:
        steps = paginate(
            sagemaker,
            "list_pipeline_execution_steps",
            "PipelineExecutionSteps",
            PipelineExecutionArn=execution["PipelineExecutionArn"],
        )
        for step in steps:
            for kind, group in JOB_LOG_GROUPS.items():
                arn = step.get("Metadata", {}).get(kind, {}).get("Arn")
                if not arn:
                    continue
                job = arn.rsplit("/", 1)[-1]
                streams = _quiet_missing(
                    partial(
                        paginate,
                        logs,
                        "describe_log_streams",
                        "logStreams",
                        logGroupName=group,
                        logStreamNamePrefix=f"{job}/",
                    ),
                    [],
                )
                rows += [_row("log stream", f"{group}:{s['logStreamName']}") for s in streams]
    return rows


def _experiment(sagemaker: Any, names: Names) -> list[Row]:
    """The Experiment the pipeline's executions made, its Trials and their trial components."""
    if _quiet_missing(lambda: sagemaker.describe_experiment(ExperimentName=names.experiment)) is None:
        return []
    rows = []
    for trial in paginate(sagemaker, "list_trials", "TrialSummaries", ExperimentName=names.experiment):
        components = paginate(
            sagemaker, "list_trial_components", "TrialComponentSummaries", TrialName=trial["TrialName"]
        )
        rows += [
            _row("trial component", f"{trial['TrialName']}/{c['TrialComponentName']}") for c in components
        ]
        rows.append(_row("trial", trial["TrialName"]))
    return [*rows, _row("experiment", names.experiment)]


def _access_logs(aws: Aws, names: Names) -> list[Row]:
    s3 = aws.client("s3")
    bucket = asset_bucket_name(aws.account, aws.region)
    listed = _quiet_missing(
        lambda: s3.list_object_versions(Bucket=bucket, Prefix=names.access_log_prefix, MaxKeys=1), {}
    )
    if listed.get("Versions") or listed.get("DeleteMarkers"):
        return [_row("access logs", f"s3://{bucket}/{names.access_log_prefix}")]
    return []


def plan_delete(aws: Aws, names: Names) -> list[Row]:
    """What exists of the project, in deletion order (each row: kind, name, action)."""
    cfn, sagemaker, s3, logs = (aws.client(s) for s in ("cloudformation", "sagemaker", "s3", "logs"))
    executions = _sagemaker_executions(sagemaker, names)
    stacks = {stage for stage in STAGES if _stack_exists(cfn, names.deploy_stack(stage))}
    rows = _what_runs(aws, names, executions)
    rows += [_row("deploy stack", names.deploy_stack(stage)) for stage in STAGES if stage in stacks]
    rows += _endpoint_log_groups(aws, names, stacks)
    if _project_status(sagemaker, names.name):
        rows.append(_row("project", names.name))
    for prefix in names.log_group_prefixes:
        rows += [_row("log group", group) for group in _log_groups(logs, prefix)]
    rows += _job_log_streams(aws, names, executions)
    rows += _experiment(sagemaker, names)
    if _quiet_missing(lambda: sagemaker.describe_pipeline(PipelineName=names.sagemaker_pipeline)):
        rows.append(_row("sagemaker pipeline", names.sagemaker_pipeline))
    if _quiet_missing(
        lambda: sagemaker.describe_model_package_group(ModelPackageGroupName=names.model_package_group)
    ):
        packages = paginate(
            sagemaker,
            "list_model_packages",
            "ModelPackageSummaryList",
            ModelPackageGroupName=names.model_package_group,
        )
        rows += [_row("model version", p["ModelPackageArn"]) for p in packages]
        rows.append(_row("model package group", names.model_package_group))
    if _quiet_missing(lambda: s3.head_bucket(Bucket=names.bucket)) is not None:
        _check_bucket_is_the_projects(s3, names)
        rows.append(_row("bucket", names.bucket))
    return rows + _access_logs(aws, names)


# --- whose it is --------------------------------------------------------------------------------------------


def _check_bucket_is_the_projects(s3: Any, names: Names) -> None:
    """Refuse a bucket whose tags name another project (a wrong name given with a right id)."""
    tags = _quiet_missing(lambda: s3.get_bucket_tagging(Bucket=names.bucket)["TagSet"], [])
    found = {t["Key"]: t["Value"] for t in tags}
    for key, expected in ((PROJECT_ID_TAG, names.id), (PROJECT_NAME_TAG, names.name)):
        if key in found and found[key] != expected:
            owner = found.get(PROJECT_NAME_TAG, "?")
            raise CommandError(
                f"refusing to delete bucket {names.bucket}: "
                f"its tag {key} is {found[key]!r}, not {expected!r}",
                field="ProjectName",
                fix=f"the bucket belongs to project {owner!r}: run `sm-mlops project delete {owner} "
                f"--project-id {found.get(PROJECT_ID_TAG, names.id)}` if that is the project to delete",
            )


def _holder_of(sagemaker: Any, project_id: str) -> dict[str, Any] | None:
    for project in paginate(sagemaker, "list_projects", "ProjectSummaryList"):
        if project.get("ProjectId") == project_id and project.get("ProjectStatus") != "DeleteCompleted":
            return dict(project)
    return None


def project_names_for_delete(aws: Aws, project: str, project_id: str | None) -> Names:
    """The project's names from SageMaker, or from ``project_id`` once the project itself is gone.

    A delete that stopped half-way (the project deleted, its bucket not) is finished by running it again with
    the id the leftovers are named by; an id that a live project still holds is refused.
    """
    if project_id is not None and not re.fullmatch(PROJECT_ID.pattern, project_id):
        raise BadInput(
            f"{project_id!r} is not a project id",
            field="--project-id",
            fix=f"give {PROJECT_ID.description.split(' (')[0]}, as in the bucket name sagemaker-project-<id>",
        )
    sagemaker = aws.client("sagemaker")
    try:
        found = describe(sagemaker, project)["ProjectId"]
    except NotFound as error:
        if project_id is None:
            raise NotFound(
                f"project {project!r} does not exist",
                field="ProjectName",
                fix="if its resources remain after a delete that stopped half-way, run this again with "
                "--project-id p-... (the id in the bucket name sagemaker-project-<id>)",
            ) from error
        holder = _holder_of(sagemaker, project_id)
        if holder is not None:
            raise BadInput(
                f"project id {project_id} belongs to project {holder['ProjectName']!r} "
                f"({holder.get('ProjectStatus')}), not to {project!r}",
                field="ProjectName",
                fix="check the name; to delete that project run "
                f"`sm-mlops project delete {holder['ProjectName']}`",
            ) from error
        return Names(project, project_id)
    if project_id is not None and project_id != found:
        raise BadInput(
            f"project {project} has id {found}, not {project_id}",
            field="--project-id",
            fix=f"leave --project-id out, or give {found}",
        )
    return Names(project, found)


# --- doing it -------------------------------------------------------------------------------------------


def empty_bucket(s3: Any, bucket: str, prefix: str = "") -> int:
    """Delete every object version and delete marker (under ``prefix``); return how many went."""
    count = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
        keys += [{"Key": m["Key"], "VersionId": m["VersionId"]} for m in page.get("DeleteMarkers", [])]
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise CommandError(
                    f"could not delete s3://{bucket}/{first['Key']}: {first.get('Message', '')}"
                )
            count += len(batch)
    return count


def _wait_project_gone(aws: Aws, name: str, wait: Waiter) -> None:
    sagemaker = aws.client("sagemaker")

    def gone() -> bool | None:
        status = _quiet_missing(lambda: sagemaker.describe_project(ProjectName=name)["ProjectStatus"])
        if status == "DeleteFailed":
            raise CommandError(
                f"project {name} ended DeleteFailed", fix="see its stack events in CloudFormation"
            )
        return True if status in (None, "DeleteCompleted") else None

    replace(wait, what=f"project {name} to be deleted").until(gone)


def _stop_sagemaker_execution(sagemaker: Any, arn: str, wait: Waiter) -> None:
    status = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
    if status == "Executing":
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)

    def stopped() -> bool | None:
        now = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        return None if now in RUNNING_SAGEMAKER else True

    replace(wait, what=f"pipeline execution {arn} to stop").until(stopped)


def _stop_pipeline_execution(codepipeline: Any, name: str) -> None:
    pipeline, execution = name.rsplit("/", 1)
    try:
        codepipeline.stop_pipeline_execution(
            pipelineName=pipeline, pipelineExecutionId=execution, abandon=True, reason="project delete"
        )
    except ClientError as error:  # it ended or is stopping already
        if error_code(error) not in {
            "PipelineExecutionNotStoppableException",
            "DuplicatedStopRequestException",
        }:
            raise


def _do(aws: Aws, row: Row, wait: Waiter) -> Row:
    kind, name = row["kind"], row["name"]
    cfn, sagemaker, s3, logs = (aws.client(s) for s in ("cloudformation", "sagemaker", "s3", "logs"))
    done = dict(row)
    if kind == "event rule":
        aws.client("events").disable_rule(Name=name)
    elif kind == "pipeline execution":
        _stop_pipeline_execution(aws.client("codepipeline"), name)
    elif kind == "sagemaker pipeline execution":
        _stop_sagemaker_execution(sagemaker, name, wait)
    elif kind == "deploy stack":
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=name,
            WaiterConfig={"Delay": wait.interval, "MaxAttempts": int(wait.timeout / wait.interval) + 1},
        )
    elif kind == "project":
        sagemaker.delete_project(ProjectName=name)
        _wait_project_gone(aws, name, wait)
    elif kind == "log group":
        _quiet_missing(lambda: logs.delete_log_group(logGroupName=name))
    elif kind == "log stream":
        group, stream = name.split(":", 1)
        _quiet_missing(lambda: logs.delete_log_stream(logGroupName=group, logStreamName=stream))
    elif kind == "trial component":
        trial, component = name.split("/", 1)
        sagemaker.disassociate_trial_component(TrialComponentName=component, TrialName=trial)
        _quiet_missing(lambda: sagemaker.delete_trial_component(TrialComponentName=component))
    elif kind == "trial":
        sagemaker.delete_trial(TrialName=name)
    elif kind == "experiment":
        sagemaker.delete_experiment(ExperimentName=name)
    elif kind == "sagemaker pipeline":
        sagemaker.delete_pipeline(PipelineName=name)
    elif kind == "model version":
        sagemaker.delete_model_package(ModelPackageName=name)
    elif kind == "model package group":
        sagemaker.delete_model_package_group(ModelPackageGroupName=name)
    elif kind == "bucket":
        done["objects"] = str(empty_bucket(s3, name))
        s3.delete_bucket(Bucket=name)
    elif kind == "access logs":
        bucket, _, prefix = name.removeprefix("s3://").partition("/")
        done["objects"] = str(empty_bucket(s3, bucket, prefix))
    else:  # pragma: no cover - plan_delete makes only the kinds above
        raise AssertionError(kind)
    done["action"] = VERBS[row["action"]]
    return done


def delete_project(
    aws: Aws,
    project: str,
    *,
    project_id: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[list[Row]], bool] | None = None,
    waiter_timeout: float = 1800.0,
    poll: float = 2.0,
) -> list[Row]:
    """Plan, ask ``confirm`` (None: no question), then delete pass after pass until nothing is left."""
    names = project_names_for_delete(aws, project, project_id)
    rows = plan_delete(aws, names)
    if dry_run:
        return [{**row, "action": f"would {row['action']}"} for row in rows]
    if rows and confirm is not None and not confirm(rows):
        raise CommandError(f"project {project} was not deleted: not confirmed", fix="answer y, or pass --yes")
    done: list[Row] = []
    wait = Waiter("the delete", timeout=waiter_timeout, interval=poll, max_interval=max(poll, 15.0))
    for _ in range(MAX_PASSES):
        if not rows:
            return done
        for row in rows:
            progress(f"  {row['action']} {row['kind']} {row['name']}")
            done.append(_do(aws, row, wait))
        rows = plan_delete(aws, names)
    if rows:
        left = ", ".join(f"{r['kind']} {r['name']}" for r in rows)
        raise CommandError(
            f"after {MAX_PASSES} passes these remain: {left}",
            fix="something recreates them; stop it, then run the same command again",
        )
    return done
