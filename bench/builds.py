"""Build runner figures: the seed check-in build, and a build that `pip install`s the model build seed."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_BUILDSPEC = """version: 0.2
phases:
  install:
    commands:
      - pip install --upgrade --quiet pip
      - pip install --quiet .
  build:
    commands:
      - run-pipeline --help > /dev/null
"""


def _pip_builds() -> list[tuple[str, str]]:
    from standin.codebuild import BuildRunner

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-builds-") as folder:
        runner = BuildRunner(Path(folder) / "work", cache_dir=Path(folder) / "cache")
        project = {"name": "modelbuild", "source": {"buildspec": PIP_BUILDSPEC}}
        for label in ("first (new venv)", "second (venv reused)"):
            began = time.perf_counter()
            result = runner.run(project, primary_source=ROOT / "seedcode" / "modelbuild")
            seconds = time.perf_counter() - began
            rows.append(
                (f"build: pip install . of the model build seed, {label}", f"{seconds:.1f} s {result.status}")
            )
    return rows


def _seeding_build() -> tuple[str, str]:
    from seeding.assets import build_assets
    from standin.server import StandIn
    from standin.testing import wait_for

    with StandIn() as aws:
        s3, codebuild = aws.client("s3"), aws.client("codebuild")
        assets = build_assets()
        bucket = "sagemaker-mlops-assets-123456789012-us-east-1"
        s3.create_bucket(Bucket=bucket)
        for asset in assets.values():
            s3.put_object(Bucket=bucket, Key=asset.key, Body=asset.data)
        arn = aws.client("codestar-connections").create_connection(ConnectionName="c", ProviderType="GitHub")[
            "ConnectionArn"
        ]
        aws.admin.authorize_connection(arn)
        aws.admin.create_repository("octo/build", readme="# build\n")
        codebuild.create_project(
            name="checkin",
            source={"type": "S3", "location": f"{bucket}/{assets['bootstrap'].key}"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={"type": "LINUX_CONTAINER", "image": "x", "computeType": "BUILD_GENERAL1_SMALL"},
            serviceRole="arn:aws:iam::123456789012:role/build",
        )
        connection_id = arn.rsplit("/", 1)[-1]
        overrides = {
            "REPOSITORY_URL": f"https://codestar-connections.us-east-1.amazonaws.com/git-http/123456789012/"
            f"us-east-1/{connection_id}/octo/build.git",
            "REPOSITORY_BRANCH": "main",
            "SEED_CODE_S3_URI": f"s3://{bucket}/{assets['modelbuild'].key}",
            "SEED_CODE_ID": assets["modelbuild"].key.rsplit("/", 1)[-1],
            "SEED_CODE_SHA256": assets["modelbuild"].sha256,
        }
        began = time.perf_counter()
        build_id = codebuild.start_build(
            projectName="checkin",
            environmentVariablesOverride=[{"name": k, "value": v} for k, v in overrides.items()],
        )["build"]["id"]

        def finished() -> str | None:
            status = str(codebuild.batch_get_builds(ids=[build_id])["builds"][0]["buildStatus"])
            return None if status == "IN_PROGRESS" else status

        status = wait_for(finished, 900, f"the seed check-in build {build_id}")
        seconds = time.perf_counter() - began
        if status != "SUCCEEDED":
            phases = codebuild.batch_get_builds(ids=[build_id])["builds"][0]["phases"]
            failed = [c["message"] for p in phases for c in p.get("contexts") or []]
            status = f"{status}: {'; '.join(failed)[:300]}"
    return (
        "build: seed check-in (aws s3 cp, git clone/commit/push via the proxy URL)",
        f"{seconds:.1f} s {status}",
    )


def run() -> list[tuple[str, str]]:
    return [_seeding_build(), *_pip_builds()]


if __name__ == "__main__":
    for label, value in run():
        print(f"{label}: {value}")
