"""The walkthrough's two pipelines, as the rendered template creates them, running the real seeds.

A stack from `templates/mlops-third-party-git-v1.yaml` seeds both repositories and creates both pipelines; the
model build pipeline builds the seed and registers a model version from a real local training run; a pending
version starts no deployment and an approval starts exactly one; the staging stack appears, the staging test
invokes the endpoint, the execution waits at the manual approval until it is answered, then the prod stack
appears. Slow: a few minutes on 2 cores (pip installs of both seeds on a cold cache, real training)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from standin.runtime import install as install_runtime
from standin.testing import pipeline_runs as executions
from standin.testing import settled_runs as settled
from standin.testing import start_project_stack, wait_for

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "templates" / "mlops-third-party-git-v1.yaml"
NAME, PROJECT_ID = "demo", "p-walk12345678"
PREFIX = f"sagemaker-{NAME}-{PROJECT_ID}"
GROUP = f"{NAME}-{PROJECT_ID}"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (
            TEMPLATE.is_file()
            and (ROOT / "seedcode" / "modelbuild" / "pipelines" / "run_pipeline.py").is_file()
        ),
        reason="the rendered template or the model build seed is not there yet",
    ),
]


def state_reasons(cp, pipeline: str) -> list[str]:
    state = cp.get_pipeline_state(name=pipeline)
    return [
        f"{s['stageName']}.{a['actionName']}: {a['latestExecution'].get('errorDetails', {}).get('message')}"
        for s in state["stageStates"]
        for a in s["actionStates"]
        if a.get("latestExecution", {}).get("status") == "Failed"
    ]


def action(cp, pipeline: str, stage: str, name: str) -> dict:
    state = cp.get_pipeline_state(name=pipeline)
    stage_state = next(s for s in state["stageStates"] if s["stageName"] == stage)
    return next(a for a in stage_state["actionStates"] if a["actionName"] == name).get("latestExecution", {})


def stack_status(cfn, name: str) -> str | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except cfn.exceptions.ClientError:
        return None


def provision(standin) -> None:
    from seeding.assets import build_assets

    assets = {asset.key: asset.data for asset in build_assets().values()}
    start_project_stack(
        standin, TEMPLATE.read_text(), assets, "SC-123456789012-pp-walkthrough", NAME, PROJECT_ID
    )
    cfn = standin.client("cloudformation")
    status = wait_for(
        lambda: (
            (s := stack_status(cfn, "SC-123456789012-pp-walkthrough")) and not s.endswith("IN_PROGRESS") and s
        ),
        300,
        "the project stack",
    )
    assert status == "CREATE_COMPLETE", cfn.describe_stack_events(StackName="SC-123456789012-pp-walkthrough")


def test_build_registers_a_model_and_an_approval_deploys_staging_then_prod(standin, tmp_path):
    install_runtime(standin)
    provision(standin)
    cp, sm, cfn = (
        standin.client("codepipeline"),
        standin.client("sagemaker"),
        standin.client("cloudformation"),
    )
    build_pipeline, deploy_pipeline = f"{PREFIX}-modelbuild", f"{PREFIX}-modeldeploy"

    # the model build pipeline (started by its creation and by the seed's push) registers a pending version
    runs = wait_for(lambda: settled(cp, build_pipeline), 900, "the model build pipeline")
    assert any(r["status"] == "Succeeded" for r in runs), (runs, state_reasons(cp, build_pipeline))
    packages = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert [p["ModelApprovalStatus"] for p in packages] == ["PendingManualApproval"]

    # the deploy pipeline ran on creation/seeding and failed (no approved model yet), as on AWS
    before = wait_for(lambda: settled(cp, deploy_pipeline), 600, "the deploy pipeline's first runs")
    assert before[0]["status"] == "Failed"
    assert stack_status(cfn, f"{PREFIX}-deploy-staging") is None

    # an approval starts exactly one deployment
    sm.update_model_package(ModelPackageArn=packages[0]["ModelPackageArn"], ModelApprovalStatus="Approved")
    wait_for(lambda: len(executions(cp, deploy_pipeline)) == len(before) + 1, 30, "the approval's deployment")
    token = wait_for(
        lambda: (
            action(cp, deploy_pipeline, "DeployStaging", "ApproveDeployment").get("token")
            or (executions(cp, deploy_pipeline)[0]["status"] == "Failed" and "failed")
        ),
        900,
        "the manual approval",
    )
    assert token != "failed", "\n".join(state_reasons(cp, deploy_pipeline))
    assert stack_status(cfn, f"{PREFIX}-deploy-staging") == "CREATE_COMPLETE"
    assert stack_status(cfn, f"{PREFIX}-deploy-prod") is None
    test_run = action(cp, deploy_pipeline, "DeployStaging", "TestStaging")
    assert test_run["status"] == "Succeeded"
    log = standin.client("codebuild").batch_get_builds(ids=[test_run["externalExecutionId"]])["builds"][0]
    assert log["buildStatus"] == "SUCCEEDED"
    # the endpoint the test invoked answers a person too (AWS CLI, a real client)
    rows = (ROOT / "seedcode" / "modeldeploy" / "test" / "abalone-sample.csv").read_text().splitlines()[:3]
    body = tmp_path / "rows.csv"
    body.write_text("\n".join(r.partition(",")[2] for r in rows))
    out = subprocess.run(
        [str(Path(sys.executable).with_name("aws")), "sagemaker-runtime", "invoke-endpoint"]
        + ["--endpoint-name", f"{NAME}-staging", "--content-type", "text/csv", "--body", f"fileb://{body}"]
        + [str(tmp_path / "out.txt")],
        env=standin.env | {"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert len((tmp_path / "out.txt").read_text().split()) == 3

    time.sleep(1)
    assert executions(cp, deploy_pipeline)[0]["status"] == "InProgress"  # waiting for the answer
    cp.put_approval_result(
        pipelineName=deploy_pipeline,
        stageName="DeployStaging",
        actionName="ApproveDeployment",
        result={"summary": "staging looks good", "status": "Approved"},
        token=token,
    )
    final = wait_for(lambda: settled(cp, deploy_pipeline), 300, "the prod deployment")
    assert final[0]["status"] == "Succeeded", state_reasons(cp, deploy_pipeline)
    assert stack_status(cfn, f"{PREFIX}-deploy-prod") == "CREATE_COMPLETE"
    assert sm.describe_endpoint(EndpointName=f"{NAME}-prod")["EndpointStatus"] == "InService"
