"""`model approve` (walkthrough step 4) and `deploy promote` (step 5)."""

from __future__ import annotations

from typing import Any

from generator import constants as c
from scripts.common import Aws, BadInput, NotFound, paginate
from scripts.projects import project_names

STAGING_STAGE, APPROVAL_ACTION = c.STAGING_STAGE, c.APPROVAL_ACTION


def approve_model(aws: Aws, project: str, version: int | None = None, note: str = "") -> dict[str, Any]:
    """Approve version N of the project's model package group (default: the newest one)."""
    names = project_names(aws.client("sagemaker"), project)
    sagemaker = aws.client("sagemaker")
    packages = paginate(
        sagemaker,
        "list_model_packages",
        "ModelPackageSummaryList",
        ModelPackageGroupName=names.model_package_group,
        SortBy="CreationTime",
        SortOrder="Descending",
    )
    if not packages:
        raise NotFound(
            f"model package group {names.model_package_group} holds no model version yet",
            field="--version",
            fix="push to the model build repository and wait for the pipeline to register a model",
        )
    if version is None:
        chosen = max(packages, key=lambda p: int(p.get("ModelPackageVersion", 0)))
    else:
        matching = [p for p in packages if int(p.get("ModelPackageVersion", 0)) == version]
        if not matching:
            known = sorted(int(p.get("ModelPackageVersion", 0)) for p in packages)
            raise BadInput(f"there is no version {version}", field="--version", fix=f"choose one of {known}")
        chosen = matching[0]
    arn = chosen["ModelPackageArn"]
    before = chosen.get("ModelApprovalStatus", "")
    if before != "Approved":
        sagemaker.update_model_package(
            ModelPackageArn=arn,
            ModelApprovalStatus="Approved",
            ApprovalDescription=note or "approved with sm-mlops model approve",
        )
    return {
        "model_package_arn": arn,
        "version": int(chosen.get("ModelPackageVersion", 0)),
        "before": before,
        "status": "Approved",
        "action": "approved" if before != "Approved" else "already approved",
    }


def pending_approval(codepipeline: Any, pipeline: str) -> str | None:
    """The token of the manual approval waiting in DeployStaging, if one is waiting."""
    state = codepipeline.get_pipeline_state(name=pipeline)
    for stage in state.get("stageStates", []):
        if stage["stageName"] != STAGING_STAGE:
            continue
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution", {})
            if (
                action["actionName"] == APPROVAL_ACTION
                and latest.get("status") == "InProgress"
                and latest.get("token")
            ):
                return str(latest["token"])
    return None


def promote(aws: Aws, project: str, note: str = "", reject: bool = False) -> dict[str, Any]:
    """Answer `ApproveDeployment` in `DeployStaging` of the project's deploy pipeline (approve by default)."""
    names = project_names(aws.client("sagemaker"), project)
    codepipeline = aws.client("codepipeline")
    token = pending_approval(codepipeline, names.deploy_pipeline)
    if token is None:
        raise NotFound(
            f"nothing waits for approval in {names.deploy_pipeline} ({STAGING_STAGE}/{APPROVAL_ACTION})",
            fix="approve a model first (`sm-mlops model approve`) and wait for the staging test to pass",
        )
    status = "Rejected" if reject else "Approved"
    codepipeline.put_approval_result(
        pipelineName=names.deploy_pipeline,
        stageName=STAGING_STAGE,
        actionName=APPROVAL_ACTION,
        result={"summary": note or f"{status} with sm-mlops deploy promote", "status": status},
        token=token,
    )
    return {"pipeline": names.deploy_pipeline, "status": status}
