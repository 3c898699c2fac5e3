"""Check the staging endpoint: it is InService and answers real abalone rows with plausible ring counts.

Runs in the ModelDeploy test CodeBuild project (test/buildspec.yml) after the staging stack is deployed. The
endpoint name is `<SageMakerProjectName>-<StageName>` from the build's staging-config-export.json. The rows
of test/abalone-sample.csv are in the model's input layout, label (rings) first; the label is cut off before
sending. The contract is SageMaker's XGBoost container's: text/csv rows in, one prediction per row out.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger("test")

# Abalone have 1 to 29 rings; a prediction outside 0..40 means the endpoint is not serving this model.
PLAUSIBLE_LOW, PLAUSIBLE_HIGH = 0.0, 40.0


class EndpointTestError(Exception):
    """The endpoint is not ready or did not answer as the model should."""


def endpoint_name_from(config_path: Path) -> str:
    try:
        parameters = json.loads(config_path.read_text())["Parameters"]
        return f"{parameters['SageMakerProjectName']}-{parameters['StageName']}"
    except FileNotFoundError as exc:
        raise EndpointTestError(
            f"{config_path} does not exist: the test reads the build stage's output (secondary source "
            "BuildArtifact, $CODEBUILD_SRC_DIR_BuildArtifact)"
        ) from exc
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise EndpointTestError(
            f"{config_path} must be a JSON object whose Parameters hold SageMakerProjectName and "
            f"StageName ({exc})"
        ) from exc


def read_rows(path: Path) -> tuple[list[str], list[float]]:
    """Feature rows (as CSV text, label removed) and their labels."""
    features, labels = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        label, _, rest = line.partition(",")
        try:
            labels.append(float(label))
            for value in rest.split(","):
                float(value)
        except ValueError as exc:
            raise EndpointTestError(f"{path}:{number} is not a row of numbers: {line!r}") from exc
        features.append(rest)
    if not features:
        raise EndpointTestError(f"{path} holds no rows")
    return features, labels


def check_in_service(sm_client: Any, endpoint_name: str) -> str:
    described = sm_client.describe_endpoint(EndpointName=endpoint_name)
    status = described["EndpointStatus"]
    if status != "InService":
        reason = described.get("FailureReason", "")
        raise EndpointTestError(f"endpoint {endpoint_name} is {status}, not InService. {reason}".strip())
    return status


def parse_predictions(body: str) -> list[float]:
    """One number per line (commas are accepted as separators too, as older containers answer)."""
    values = [v for v in re.split(r"[\s,]+", body.strip()) if v]
    try:
        return [float(v) for v in values]
    except ValueError as exc:
        raise EndpointTestError(f"the endpoint's answer is not a list of numbers: {body[:200]!r}") from exc


def invoke(runtime_client: Any, endpoint_name: str, rows: list[str]) -> list[float]:
    body = "\n".join(rows).encode()
    try:
        response = runtime_client.invoke_endpoint(
            EndpointName=endpoint_name, ContentType="text/csv", Accept="text/csv", Body=body
        )
    except ClientError as exc:
        raise EndpointTestError(f"invoking endpoint {endpoint_name} failed: {exc}") from exc
    return parse_predictions(response["Body"].read().decode("utf-8"))


def check_predictions(predictions: list[float], expected_count: int) -> None:
    if len(predictions) != expected_count:
        raise EndpointTestError(f"sent {expected_count} rows but got {len(predictions)} predictions")
    outside = [p for p in predictions if not PLAUSIBLE_LOW <= p <= PLAUSIBLE_HIGH]
    if outside:
        raise EndpointTestError(
            f"predictions outside the plausible ring count {PLAUSIBLE_LOW:g}..{PLAUSIBLE_HIGH:g}: {outside}"
        )


def run(config_path: Path, rows_path: Path, sm_client: Any, runtime_client: Any) -> dict[str, Any]:
    endpoint_name = endpoint_name_from(config_path)
    rows, labels = read_rows(rows_path)
    status = check_in_service(sm_client, endpoint_name)
    predictions = invoke(runtime_client, endpoint_name, rows)
    check_predictions(predictions, len(rows))
    mse = sum((p - y) ** 2 for p, y in zip(predictions, labels, strict=True)) / len(labels)
    logger.info("endpoint %s: %d predictions, MSE %.3f against the labels", endpoint_name, len(rows), mse)
    return {
        "endpoint": endpoint_name,
        "status": status,
        "rows": len(rows),
        "predictions": predictions,
        "labels": labels,
        "mse": round(mse, 4),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    # CodeBuild names a secondary source's folder variable after its identifier, case kept.
    build_artifact = os.environ.get("CODEBUILD_SRC_DIR_BuildArtifact", ".")  # noqa: SIM112
    default_config = Path(build_artifact) / "staging-config-export.json"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default=os.environ.get("LOGLEVEL", "INFO").upper())
    parser.add_argument("--import-build-config", type=Path, default=default_config)
    parser.add_argument("--rows", type=Path, default=Path(__file__).resolve().parent / "abalone-sample.csv")
    parser.add_argument("--export-test-results", type=Path, default=Path("test-results.json"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, sm_client: Any = None, runtime_client: Any = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(name)s: %(message)s")
    sm_client = sm_client or boto3.client("sagemaker")
    runtime_client = runtime_client or boto3.client("sagemaker-runtime")
    try:
        results = {**run(args.import_build_config, args.rows, sm_client, runtime_client), "passed": True}
        code = 0
    except EndpointTestError as exc:
        logger.error("%s", exc)
        results, code = {"passed": False, "error": str(exc)}, 1
    args.export_test_results.write_text(json.dumps(results, indent=2) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
