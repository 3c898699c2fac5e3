"""Model build seed: the local run's wall time and MSE, the offline definition build, the seed zip's size."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seedcode" / "modelbuild"

# Builds the definition with moto answering S3 and STS, as the seed's tests do.
_BUILD_DEFINITION = """
import boto3
from moto import mock_aws
with mock_aws():
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bench")
    from pipelines.abalone.pipeline import get_pipeline
    role = "arn:aws:iam::123456789012:role/bench"
    get_pipeline(region="us-east-1", role=role, default_bucket="bench").definition()
"""


def _timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(
        args, cwd=SEED, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    elapsed = time.perf_counter() - started
    if completed.returncode not in (0, 1):  # 1 is the local run's failed gate: still a figure
        raise RuntimeError(f"{' '.join(args)} exited {completed.returncode}:\n{completed.stderr[-2000:]}")
    return elapsed, completed.stdout


def local_run() -> tuple[float, str]:
    """Seconds of the seed's local run (preprocess, train, evaluate here) and the MSE it printed."""
    elapsed, out = _timed([sys.executable, "-m", "pipelines.abalone.local_run"])
    match = re.search(r"^mse: ([0-9.]+)", out, re.MULTILINE)
    return elapsed, match.group(1) if match else f"not found in: {out!r}"


def definition_build() -> float:
    """Seconds to build the pipeline's definition in a fresh process, the SDK's import included."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    return _timed([sys.executable, "-c", _BUILD_DEFINITION], env)[0]


def run() -> list[tuple[str, str]]:
    from seeding.assets import build_assets

    rows: list[tuple[str, str]] = []
    elapsed, mse = local_run()
    rows.append(("local run (preprocess, train, evaluate), wall", f"{elapsed:.1f} s"))
    rows.append(("local run test MSE (gate 6.0)", mse))
    rows.append(("pipeline definition build incl. SDK import (moto), wall", f"{definition_build():.1f} s"))
    asset = build_assets()["modelbuild"]
    rows.append(("seed zip modelbuild", f"{len(asset.data):,} bytes ({asset.key})"))
    return rows
