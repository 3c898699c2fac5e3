"""CodePipeline executions on the stand-in: source from the local Git server, a CodeBuild action,
CloudFormation deploys, a manual approval, pushes and events starting executions; boto3 and the AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from standin import events as runtime_events
from standin.runtime import install as install_runtime
from standin.testing import wait_for

REPO = "octo/deploy"
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        for service in ("codepipeline.amazonaws.com", "codebuild.amazonaws.com")
    ],
}
TEMPLATE = """
Parameters:
  Stage:
    Type: String
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "sagemaker-demo-${Stage}"
Outputs:
  QueueName:
    Value: !GetAtt Queue.QueueName
"""
BUILDSPEC = """
version: 0.2
phases:
  build:
    commands:
      - test -f template.yml
      - if [ -f FAIL ]; then echo "the template check failed"; exit 3; fi
      - echo "built by $CODEPIPELINE_EXECUTION_ID stage=$STAGE_HINT" > built.txt
artifacts:
  files:
    - template.yml
    - "*-config.json"
    - built.txt
"""


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Data Scientist",
        "GIT_AUTHOR_EMAIL": "ds@example.com",
        "GIT_COMMITTER_NAME": "Data Scientist",
        "GIT_COMMITTER_EMAIL": "ds@example.com",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def push_files(standin, tmp_path: Path, files: dict[str, str], message: str) -> str:
    work = tmp_path / "clone"
    if not work.exists():
        git(tmp_path, "clone", "--quiet", standin.git.clone_url(REPO), str(work))
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", message)
    git(work, "push", "--quiet", "origin", "HEAD:main")
    return git(work, "rev-parse", "HEAD").strip()


def cfn_action(name: str, stage: str, mode: str, run_order: int = 1) -> dict:
    return {
        "name": name,
        "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CloudFormation", "version": "1"},
        "runOrder": run_order,
        "configuration": {
            "ActionMode": mode,
            "StackName": f"sagemaker-demo-deploy-{stage}",
            "TemplatePath": "BuildArtifact::template.yml",
            "TemplateConfiguration": f"BuildArtifact::{stage}-config.json",
            "RoleArn": "arn:aws:iam::123456789012:role/cfn",
            "Capabilities": "CAPABILITY_NAMED_IAM",
        },
        "inputArtifacts": [{"name": "BuildArtifact"}],
    }


def declaration(role_arn: str, connection_arn: str) -> dict:
    return {
        "name": "sagemaker-demo-modeldeploy",
        "roleArn": role_arn,
        "artifactStore": {"type": "S3", "location": "sagemaker-project-demo"},
        "pipelineType": "V2",
        "executionMode": "SUPERSEDED",
        "stages": [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "ModelDeployInfraCode",
                        "actionTypeId": {
                            "category": "Source",
                            "owner": "AWS",
                            "provider": "CodeStarSourceConnection",
                            "version": "1",
                        },
                        "configuration": {
                            "ConnectionArn": connection_arn,
                            "FullRepositoryId": REPO,
                            "BranchName": "main",
                        },
                        "outputArtifacts": [{"name": "SourceArtifact"}],
                    }
                ],
            },
            {
                "name": "Build",
                "actions": [
                    {
                        "name": "BuildDeploymentTemplates",
                        "actionTypeId": {
                            "category": "Build",
                            "owner": "AWS",
                            "provider": "CodeBuild",
                            "version": "1",
                        },
                        "configuration": {
                            "ProjectName": "sagemaker-demo-modeldeploy",
                            "EnvironmentVariables": json.dumps([{"name": "STAGE_HINT", "value": "x"}]),
                        },
                        "inputArtifacts": [{"name": "SourceArtifact"}],
                        "outputArtifacts": [{"name": "BuildArtifact"}],
                    }
                ],
            },
            {
                "name": "DeployStaging",
                "actions": [
                    cfn_action("DeployResourcesStaging", "staging", "REPLACE_ON_FAILURE"),
                    {
                        "name": "ApproveDeployment",
                        "actionTypeId": {
                            "category": "Approval",
                            "owner": "AWS",
                            "provider": "Manual",
                            "version": "1",
                        },
                        "runOrder": 2,
                        "configuration": {"CustomData": "Approve this model for Production"},
                    },
                ],
            },
            {"name": "DeployProd", "actions": [cfn_action("DeployResourcesProd", "prod", "CREATE_UPDATE")]},
        ],
    }


@pytest.fixture
def project(standin, tmp_path):
    """A deploy repository with a template and configs, an authorised connection, a build project, a role."""
    install_runtime(standin)
    iam = standin.client("iam")
    role = iam.create_role(RoleName="pipeline", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))["Role"][
        "Arn"
    ]
    standin.client("s3").create_bucket(Bucket="sagemaker-project-demo")
    connection = standin.client("codestar-connections").create_connection(
        ProviderType="GitHub", ConnectionName="demo", Tags=[{"Key": "sagemaker", "Value": "true"}]
    )["ConnectionArn"]
    standin.admin.authorize_connection(connection)
    standin.admin.create_repository(REPO, readme="# deploy")
    push_files(
        standin,
        tmp_path,
        {
            "template.yml": TEMPLATE,
            "staging-config.json": json.dumps(
                {"Parameters": {"Stage": "staging"}, "Tags": {"stage": "staging"}}
            ),
            "prod-config.json": json.dumps({"Parameters": {"Stage": "prod"}}),
        },
        "Add the deploy templates",
    )
    standin.client("codebuild").create_project(
        name="sagemaker-demo-modeldeploy",
        # moto insists on a location even for CODEPIPELINE sources (AWS does not)
        source={"type": "CODEPIPELINE", "buildspec": BUILDSPEC, "location": "codepipeline"},
        artifacts={"type": "CODEPIPELINE", "location": "codepipeline"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=role,
    )
    return {"role": role, "connection": connection}


def executions(cp, name: str = "sagemaker-demo-modeldeploy") -> list[dict]:
    return cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]


def action_state(cp, stage: str, action: str, name: str = "sagemaker-demo-modeldeploy") -> dict:
    state = cp.get_pipeline_state(name=name)
    stage_state = next(s for s in state["stageStates"] if s["stageName"] == stage)
    entry = next(a for a in stage_state["actionStates"] if a["actionName"] == action)
    return entry.get("latestExecution", {})


def stack_status(cfn, name: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except cfn.exceptions.ClientError:
        return None


def test_a_new_pipeline_runs_to_the_approval_then_deploys_prod_once_approved(standin, project, tmp_path):
    cp, cfn = standin.client("codepipeline"), standin.client("cloudformation")
    cp.create_pipeline(pipeline=declaration(project["role"], project["connection"]))
    first = wait_for(lambda: executions(cp), what="the creation's execution")
    assert len(first) == 1 and first[0]["trigger"]["triggerType"] == "CreatePipeline"
    approval = wait_for(
        lambda: action_state(cp, "DeployStaging", "ApproveDeployment").get("token"), what="the approval"
    )
    assert stack_status(cfn, "sagemaker-demo-deploy-staging") == "CREATE_COMPLETE"
    assert stack_status(cfn, "sagemaker-demo-deploy-prod") is None
    assert standin.client("sqs").get_queue_url(QueueName="sagemaker-demo-staging")["QueueUrl"]
    # the CLI sees the same waiting approval
    aws = Path(sys.executable).with_name("aws")
    out = subprocess.run(
        [str(aws), "codepipeline", "get-pipeline-state", "--name", "sagemaker-demo-modeldeploy"],
        env=standin.env | {"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    stages = {s["stageName"]: s for s in json.loads(out.stdout)["stageStates"]}
    assert stages["DeployStaging"]["latestExecution"]["status"] == "InProgress"
    time.sleep(0.5)
    assert executions(cp)[0]["status"] == "InProgress"  # it waits until answered
    with pytest.raises(cp.exceptions.InvalidApprovalTokenException):
        cp.put_approval_result(
            pipelineName="sagemaker-demo-modeldeploy",
            stageName="DeployStaging",
            actionName="ApproveDeployment",
            result={"summary": "ok", "status": "Approved"},
            token="not-the-token",
        )
    cp.put_approval_result(
        pipelineName="sagemaker-demo-modeldeploy",
        stageName="DeployStaging",
        actionName="ApproveDeployment",
        result={"summary": "looks good", "status": "Approved"},
        token=approval,
    )
    done = wait_for(lambda: [e for e in executions(cp) if e["status"] != "InProgress"], what="the end")
    assert done[0]["status"] == "Succeeded", cp.get_pipeline_state(name="sagemaker-demo-modeldeploy")
    assert stack_status(cfn, "sagemaker-demo-deploy-prod") == "CREATE_COMPLETE"
    details = cp.list_action_executions(
        pipelineName="sagemaker-demo-modeldeploy",
        filter={"pipelineExecutionId": done[0]["pipelineExecutionId"]},
    )["actionExecutionDetails"]
    assert {d["actionName"]: d["status"] for d in details} == {
        "ModelDeployInfraCode": "Succeeded",
        "BuildDeploymentTemplates": "Succeeded",
        "DeployResourcesStaging": "Succeeded",
        "ApproveDeployment": "Succeeded",
        "DeployResourcesProd": "Succeeded",
    }
    build = next(d for d in details if d["actionName"] == "BuildDeploymentTemplates")
    artifact = build["output"]["outputArtifacts"][0]["s3location"]
    assert artifact["bucket"] == "sagemaker-project-demo"

    # a push to the watched branch starts exactly one execution, on the pushed commit
    sha = push_files(standin, tmp_path, {"README.md": "# deploy\nchanged\n"}, "Change the readme")
    wait_for(lambda: len(executions(cp)) == 2, what="the push's execution")
    time.sleep(0.5)
    after = executions(cp)
    assert len(after) == 2
    assert after[0]["trigger"]["triggerType"] == "WebhookV2"
    wait_for(lambda: action_state(cp, "Source", "ModelDeployInfraCode").get("externalExecutionId") == sha)
    assert after[0]["sourceRevisions"] == [] or after[0]["sourceRevisions"][0]["revisionId"] == sha


def test_failing_build_and_deploy_actions_fail_the_execution_with_their_reason(standin, project, tmp_path):
    push_files(standin, tmp_path, {"FAIL": "1"}, "Break the build")
    cp = standin.client("codepipeline")
    cp.create_pipeline(pipeline=declaration(project["role"], project["connection"]))
    done = wait_for(
        lambda: [e for e in executions(cp) if e["status"] != "InProgress"], what="the failed build"
    )
    assert done[0]["status"] == "Failed"
    build = action_state(cp, "Build", "BuildDeploymentTemplates")
    assert build["status"] == "Failed"
    assert "Build terminated with state: FAILED" in build["errorDetails"]["message"]
    assert "the template check failed" in build["errorDetails"]["message"]
    # the fix is a push; the new execution gets past the build and fails creating the staging stack
    (tmp_path / "clone" / "FAIL").unlink()
    bad = json.dumps({"Parameters": {"Stage": "not a queue name!"}})
    push_files(standin, tmp_path, {"staging-config.json": bad}, "Fix the build, break the config")
    wait_for(lambda: len(executions(cp)) == 2 and executions(cp)[0]["status"] != "InProgress", what="2nd run")
    assert executions(cp)[0]["status"] == "Failed"
    staging = action_state(cp, "DeployStaging", "DeployResourcesStaging")
    assert staging["status"] == "Failed"
    assert "sagemaker-demo-deploy-staging" in staging["errorDetails"]["message"]
    cfn = standin.client("cloudformation")
    assert stack_status(cfn, "sagemaker-demo-deploy-staging") == "ROLLBACK_COMPLETE"
    # REPLACE_ON_FAILURE: the failed stack is deleted and created again from the fixed configuration
    good = json.dumps({"Parameters": {"Stage": "staging"}})
    push_files(standin, tmp_path, {"staging-config.json": good}, "Fix the config")
    wait_for(lambda: action_state(cp, "DeployStaging", "ApproveDeployment").get("token"), what="3rd run")
    assert stack_status(cfn, "sagemaker-demo-deploy-staging") == "CREATE_COMPLETE"


def test_a_rejection_fails_the_execution_and_prod_is_not_deployed(standin, project):
    cp, cfn = standin.client("codepipeline"), standin.client("cloudformation")
    cp.create_pipeline(pipeline=declaration(project["role"], project["connection"]))
    token = wait_for(lambda: action_state(cp, "DeployStaging", "ApproveDeployment").get("token"))
    cp.put_approval_result(
        pipelineName="sagemaker-demo-modeldeploy",
        stageName="DeployStaging",
        actionName="ApproveDeployment",
        result={"summary": "not this one", "status": "Rejected"},
        token=token,
    )
    done = wait_for(lambda: [e for e in executions(cp) if e["status"] != "InProgress"])
    assert done[0]["status"] == "Failed"
    assert stack_status(cfn, "sagemaker-demo-deploy-prod") is None
    with pytest.raises(cp.exceptions.ApprovalAlreadyCompletedException):
        cp.put_approval_result(
            pipelineName="sagemaker-demo-modeldeploy",
            stageName="DeployStaging",
            actionName="ApproveDeployment",
            result={"summary": "again", "status": "Approved"},
            token=token,
        )


def test_model_package_events_start_the_pipeline_only_when_a_rule_matches(standin, project):
    cp, sm, ev = standin.client("codepipeline"), standin.client("sagemaker"), standin.client("events")
    cp.create_pipeline(pipeline=declaration(project["role"], project["connection"]))
    wait_for(lambda: executions(cp))
    ev.put_rule(
        Name="sagemaker-demo-model",
        EventPattern=json.dumps(
            {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {
                    "ModelPackageGroupName": ["demo-p-1"],
                    "ModelApprovalStatus": [{"anything-but": "PendingManualApproval"}],
                },
            }
        ),
        State="ENABLED",
    )
    ev.put_targets(
        Rule="sagemaker-demo-model",
        Targets=[
            {"Id": "deploy", "Arn": "arn:aws:codepipeline:us-east-1:123456789012:sagemaker-demo-modeldeploy"}
        ],
    )
    sm.create_model_package_group(ModelPackageGroupName="demo-p-1")
    sm.create_model_package_group(ModelPackageGroupName="other-group")
    spec = {"Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://b/model.tar.gz"}]}
    pending = sm.create_model_package(
        ModelPackageGroupName="demo-p-1",
        InferenceSpecification=spec,
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    other = sm.create_model_package(
        ModelPackageGroupName="other-group",
        InferenceSpecification=spec,
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=other, ModelApprovalStatus="Approved")
    time.sleep(0.3)
    assert len(executions(cp)) == 1  # a pending package, and another group's approval, start nothing
    sent = runtime_events.emitted(standin)
    assert [e["detail"]["ModelApprovalStatus"] for e in sent] == [
        "PendingManualApproval",
        "PendingManualApproval",
        "Approved",
    ]
    assert sent[0]["source"] == "aws.sagemaker" and sent[0]["resources"] == [pending]
    sm.update_model_package(ModelPackageArn=pending, ModelApprovalStatus="Approved")
    wait_for(lambda: len(executions(cp)) == 2, what="the approval's execution")
    sm.update_model_package(
        ModelPackageArn=pending, ModelApprovalStatus="Approved", ApprovalDescription="same"
    )
    time.sleep(0.3)
    runs = executions(cp)
    assert len(runs) == 2 and runs[0]["trigger"]["triggerType"] == "CloudWatchEvent"


def test_superseded_mode_drops_an_older_run_waiting_for_a_stage_and_stop_ends_a_waiting_run(
    standin, project, tmp_path
):
    cp = standin.client("codepipeline")
    cp.create_pipeline(pipeline=declaration(project["role"], project["connection"]))
    name = "sagemaker-demo-modeldeploy"
    wait_for(
        lambda: action_state(cp, "DeployStaging", "ApproveDeployment").get("token"), what="run 1 waiting"
    )
    # run 2 passes Source and Build, then waits to enter DeployStaging (held by run 1), keeping Build
    push_files(standin, tmp_path, {"a.txt": "a"}, "a")
    wait_for(
        lambda: (
            len(executions(cp)) == 2
            and action_state(cp, "Build", "BuildDeploymentTemplates").get("status") == "Succeeded"
            and executions(cp)[0]["status"] == "InProgress"
        ),
        what="run 2 at the stage door",
    )
    # run 3 passes Source and waits for Build, keeping Source; runs 4 and 5 both wait to enter Source:
    # the newer supersedes the older
    sha = push_files(standin, tmp_path, {"b.txt": "b"}, "b")
    wait_for(lambda: action_state(cp, "Source", "ModelDeployInfraCode").get("externalExecutionId") == sha)
    push_files(standin, tmp_path, {"c.txt": "c"}, "c")
    wait_for(lambda: len(executions(cp)) == 4, what="run 4")
    push_files(standin, tmp_path, {"d.txt": "d"}, "d")
    statuses = wait_for(
        lambda: (s := [e["status"] for e in executions(cp)]) and "Superseded" in s and s,
        what="a superseded run",
    )
    assert statuses == ["InProgress", "Superseded", "InProgress", "InProgress", "InProgress"]
    first = executions(cp)[-1]["pipelineExecutionId"]
    cp.stop_pipeline_execution(
        pipelineName=name, pipelineExecutionId=first, abandon=True, reason="not this one"
    )
    wait_for(lambda: executions(cp)[-1]["status"] == "Stopped", what="run 1 stopped")
    with pytest.raises(cp.exceptions.PipelineExecutionNotStoppableException):
        cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=first, abandon=True, reason="again")
    # run 2 moves into DeployStaging once run 1 is out of it
    second = executions(cp)[-2]["pipelineExecutionId"]
    wait_for(
        lambda: (
            cp.get_pipeline_state(name=name)["stageStates"][2]
            .get("latestExecution", {})
            .get("pipelineExecutionId")
            == second
        ),
        what="run 2 in DeployStaging",
    )
