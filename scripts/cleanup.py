"""`project delete` (walkthrough step 6): everything the project made, in an order that works.

Deploy stacks first (their endpoints cost money and they reference the project's model), then the project
(its stack), then what the seed code made outside the stack (the SageMaker pipeline and the model package
group), last the retained bucket with every object version. Only names carrying this project id are touched.
"""

from __future__ import annotations

import re
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


def _refuse_foreign(names: Names, resource: str) -> None:
    if names.id not in resource:
        raise CommandError(
            f"refusing to delete {resource}: its name does not carry the project id {names.id}"
        )


def _stack_exists(cfn: Any, stack: str) -> bool:
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError" or is_not_found(error):
            return False
        raise
    return any(s.get("StackStatus") != "DELETE_COMPLETE" for s in stacks)


def _exists(call: Any) -> bool:
    try:
        call()
        return True
    except ClientError as error:
        if is_not_found(error) or error_code(error) in {"ValidationException", "ValidationError"}:
            return False
        raise


def _project_live(sagemaker: Any, name: str) -> bool:
    try:
        status = sagemaker.describe_project(ProjectName=name)["ProjectStatus"]
    except ClientError as error:
        if is_not_found(error) or error_code(error) == "ValidationException":
            return False
        raise
    return bool(status != "DeleteCompleted")


def plan_delete(aws: Aws, names: Names) -> list[dict[str, str]]:
    """What exists of the project, in deletion order."""
    cfn, sagemaker, s3 = aws.client("cloudformation"), aws.client("sagemaker"), aws.client("s3")
    rows = []
    for stage in ("prod", "staging"):
        stack = names.deploy_stack(stage)
        if _stack_exists(cfn, stack):
            rows.append({"kind": "deploy stack", "name": stack})
    if _project_live(sagemaker, names.name):
        rows.append({"kind": "project", "name": names.name})
    if _exists(lambda: sagemaker.describe_pipeline(PipelineName=names.sagemaker_pipeline)):
        rows.append({"kind": "sagemaker pipeline", "name": names.sagemaker_pipeline})
    if _exists(
        lambda: sagemaker.describe_model_package_group(ModelPackageGroupName=names.model_package_group)
    ):
        for package in paginate(
            sagemaker,
            "list_model_packages",
            "ModelPackageSummaryList",
            ModelPackageGroupName=names.model_package_group,
        ):
            rows.append({"kind": "model version", "name": package["ModelPackageArn"]})
        rows.append({"kind": "model package group", "name": names.model_package_group})
    if _exists(lambda: s3.head_bucket(Bucket=names.bucket)):
        rows.append({"kind": "bucket", "name": names.bucket})
    for row in rows:
        if row["kind"] != "project":  # the project itself is looked up by name, and its id comes from it
            _refuse_foreign(names, row["name"])
    return rows


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; return how many went."""
    count = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
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


def project_names_for_delete(aws: Aws, project: str, project_id: str | None) -> Names:
    """The project's names from SageMaker, or from ``project_id`` once the project itself is gone.

    A delete that stopped half-way (the project deleted, its bucket not) is finished by running it again with
    the id the leftovers are named by.
    """
    if project_id is not None and not re.fullmatch(PROJECT_ID.pattern, project_id):
        raise BadInput(
            f"{project_id!r} is not a project id",
            field="--project-id",
            fix=f"give {PROJECT_ID.description.split(' (')[0]}, as in the bucket name sagemaker-project-<id>",
        )
    try:
        found = describe(aws.client("sagemaker"), project)["ProjectId"]
    except NotFound as error:
        if project_id is None:
            raise NotFound(
                f"project {project!r} does not exist",
                field="ProjectName",
                fix="if its resources remain after a delete that stopped half-way, run this again with "
                "--project-id p-... (the id in the bucket name sagemaker-project-<id>)",
            ) from error
        return Names(project, project_id)
    if project_id is not None and project_id != found:
        raise BadInput(
            f"project {project} has id {found}, not {project_id}",
            field="--project-id",
            fix=f"leave --project-id out, or give {found}",
        )
    return Names(project, found)


def delete_project(
    aws: Aws,
    project: str,
    *,
    project_id: str | None = None,
    dry_run: bool = False,
    waiter_timeout: float = 1800.0,
) -> list[dict[str, str]]:
    names = project_names_for_delete(aws, project, project_id)
    rows = plan_delete(aws, names)
    if dry_run:
        return [{**row, "action": "would delete"} for row in rows]
    cfn, sagemaker, s3 = aws.client("cloudformation"), aws.client("sagemaker"), aws.client("s3")
    done = []
    for row in rows:
        kind, name = row["kind"], row["name"]
        progress(f"  deleting {kind} {name}")
        if kind == "deploy stack":
            cfn.delete_stack(StackName=name)
            cfn.get_waiter("stack_delete_complete").wait(
                StackName=name, WaiterConfig={"Delay": 2, "MaxAttempts": int(waiter_timeout / 2)}
            )
        elif kind == "project":
            sagemaker.delete_project(ProjectName=name)

            def gone(name: str = name) -> bool | None:
                try:
                    status = sagemaker.describe_project(ProjectName=name)["ProjectStatus"]
                except ClientError as error:
                    if is_not_found(error) or error_code(error) == "ValidationException":
                        return True
                    raise
                if status == "DeleteFailed":
                    raise CommandError(
                        f"project {name} ended DeleteFailed", fix="see its stack events in CloudFormation"
                    )
                return True if status == "DeleteCompleted" else None

            Waiter(f"project {name} to be deleted", timeout=waiter_timeout).until(gone)
        elif kind == "sagemaker pipeline":
            sagemaker.delete_pipeline(PipelineName=name)
        elif kind == "model version":
            sagemaker.delete_model_package(ModelPackageName=name)
        elif kind == "model package group":
            sagemaker.delete_model_package_group(ModelPackageGroupName=name)
        elif kind == "bucket":
            removed = empty_bucket(s3, name)
            s3.delete_bucket(Bucket=name)
            row = {**row, "objects": str(removed)}
        done.append({**row, "action": "deleted"})
    return done
