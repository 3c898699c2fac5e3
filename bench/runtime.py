"""What the stand-in runs, timed: one model build execution and one deployment, first and second run.

A stack from the rendered template (both repositories seeded) on a fresh stand-in. The first model build
execution is the one the seed's push starts (cold build environment: `pip install .` of the seed); the
second is started by `start_pipeline_execution` (the environment is cached). A deployment is an approval's
deploy pipeline execution, from the approval to the prod stack, with the manual approval answered at once: the
first for model version 1 (cold environment for the deploy and test builds), the second for version 2.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.models import pending_approval
from standin.testing import pipeline_runs, settled_runs, wait_for

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "mlops-third-party-git-v1.yaml"
NAME, PROJECT_ID = "bench", "p-bench1234567"
PREFIX = f"sagemaker-{NAME}-{PROJECT_ID}"


def _provision(standin: Any) -> None:
    from seeding.assets import build_assets
    from standin.testing import start_project_stack

    assets = {asset.key: asset.data for asset in build_assets().values()}
    start_project_stack(standin, TEMPLATE.read_text(), assets, "SC-bench", NAME, PROJECT_ID)
    cfn = standin.client("cloudformation")
    status = wait_for(
        lambda: (
            (s := cfn.describe_stacks(StackName="SC-bench")["Stacks"][0]["StackStatus"]).endswith("COMPLETE")
            and s
        ),
        600,
        "the project stack",
    )
    if status != "CREATE_COMPLETE":
        raise RuntimeError(f"the project stack ended {status}")


def _seconds(run: dict) -> float:
    return (run["lastUpdateTime"] - run["startTime"]).total_seconds()


def _deploy(standin: Any, package_arn: str) -> float:
    """Approve `package_arn`, answer the manual approval at once; seconds from approval to the end."""
    cp, sm = standin.client("codepipeline"), standin.client("sagemaker")
    pipeline = f"{PREFIX}-modeldeploy"
    before = len(pipeline_runs(cp, pipeline))
    began = time.perf_counter()
    sm.update_model_package(ModelPackageArn=package_arn, ModelApprovalStatus="Approved")
    wait_for(lambda: len(pipeline_runs(cp, pipeline)) > before, 60, "the deployment to start")

    def token() -> str | None:
        if pipeline_runs(cp, pipeline)[0]["status"] == "Failed":
            raise RuntimeError(
                f"the deployment failed: {pipeline_runs(cp, pipeline)[0].get('statusSummary')}"
            )
        return pending_approval(cp, pipeline)

    answer = wait_for(token, 900, "the manual approval")
    cp.put_approval_result(
        pipelineName=pipeline,
        stageName="DeployStaging",
        actionName="ApproveDeployment",
        result={"summary": "bench", "status": "Approved"},
        token=answer,
    )
    final = wait_for(lambda: settled_runs(cp, pipeline), 600, "the deployment to end")
    if final[0]["status"] != "Succeeded":
        raise RuntimeError(f"the deployment ended {final[0]['status']}: {final[0].get('statusSummary')}")
    return time.perf_counter() - began


def _timed(rows: list[tuple[str, str]], label: str, measure: Callable[[], float]) -> bool:
    try:
        rows.append((label, f"{measure():.1f} s"))
        return True
    except Exception as error:  # noqa: BLE001 - a failed run is a figure too: say why, keep the others
        rows.append((label, f"failed: {str(error)[:300]}"))
        return False


def run() -> list[tuple[str, str]]:
    from standin.runtime import install
    from standin.server import StandIn

    rows: list[tuple[str, str]] = []
    with StandIn() as standin:
        install(standin)
        cp, sm = standin.client("codepipeline"), standin.client("sagemaker")
        build = f"{PREFIX}-modelbuild"

        def provision() -> float:
            began = time.perf_counter()
            _provision(standin)
            return time.perf_counter() - began

        def first_build() -> float:
            runs = wait_for(lambda: settled_runs(cp, build), 1200, "the first model build")
            first = next((r for r in reversed(runs) if r["status"] == "Succeeded"), None)
            if first is None:
                raise RuntimeError(f"no model build succeeded: {[r.get('statusSummary') for r in runs]}")
            return _seconds(first)

        def second_build() -> float:
            began = time.perf_counter()
            cp.start_pipeline_execution(name=build)
            second = wait_for(
                lambda: (r := pipeline_runs(cp, build)[0])["status"] not in ("InProgress", "Stopping") and r,
                900,
                "2nd",
            )
            if second["status"] != "Succeeded":
                raise RuntimeError(f"ended {second['status']}: {second.get('statusSummary')}")
            return time.perf_counter() - began

        def packages() -> list[str]:
            listed = sm.list_model_packages(
                ModelPackageGroupName=f"{NAME}-{PROJECT_ID}", SortOrder="Ascending"
            )
            return [p["ModelPackageArn"] for p in listed["ModelPackageSummaryList"]]

        if not _timed(rows, "project stack (seeds both repositories)", provision):
            return rows
        _timed(rows, "model build execution, first (cold build env)", first_build)
        _timed(rows, "model build execution, second (cached env)", second_build)
        wait_for(lambda: settled_runs(cp, f"{PREFIX}-modeldeploy"), 600, "the deploy pipeline's first runs")
        if packages():
            _timed(
                rows, "deployment, first (approval → prod, cold env)", lambda: _deploy(standin, packages()[0])
            )
            _timed(
                rows, "deployment, second (approval → prod, cached)", lambda: _deploy(standin, packages()[-1])
            )
    return rows
