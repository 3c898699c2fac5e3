"""Create or update a SageMaker pipeline from a module's `get_pipeline`, start it, and wait for the end.

    run-pipeline --module-name pipelines.abalone.pipeline --role-arn ARN \\
        --tags '[{"Key": "sagemaker:project-name", "Value": "..."}]' --kwargs '{"region": "...", ...}'

Waits at most --timeout-minutes (default: $PIPELINE_TIMEOUT_MINUTES, else 460, under the 480-minute limit of
the template's CodeBuild project), polling every few seconds at first and then less often, prints each step's
status when it changes, and exits non-zero with the failure reason when the execution does not succeed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines._utils import convert_struct, get_pipeline_driver, parse_json_argument

DEFAULT_TIMEOUT_MINUTES = 460
TIMEOUT_ENV = "PIPELINE_TIMEOUT_MINUTES"
# An execution takes minutes on SageMaker (each job starts an instance) and seconds where steps run locally:
# the first polls come quickly (0.5, 0.75, 1.1 s ...) so a short run is seen within a fraction of its length,
# and the waits grow by half each time up to a minute, so a long run costs a poll a minute (a 40-minute run
# about 50 DescribePipelineExecution calls, far inside the API's rate limits).
FIRST_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 60.0
POLL_GROWTH = 1.5
DONE = {"Succeeded", "Failed", "Stopped"}


@dataclass
class WaitResult:
    status: str
    failure_reason: str = ""
    failed_steps: list[str] = field(default_factory=list)
    timed_out: bool = False


def list_steps(client: Any, execution_arn: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"PipelineExecutionArn": execution_arn, "SortOrder": "Ascending"}
    while True:
        page = client.list_pipeline_execution_steps(**kwargs)
        steps.extend(page.get("PipelineExecutionSteps", []))
        if not page.get("NextToken"):
            return steps
        kwargs["NextToken"] = page["NextToken"]


def poll_intervals(first: float = FIRST_POLL_SECONDS, largest: float = MAX_POLL_SECONDS) -> Iterator[float]:
    """0.5 s, 0.75 s, 1.1 s, ... up to a minute: a short run is seen at once, a long one is not hammered."""
    interval = first
    while True:
        yield interval
        interval = min(interval * POLL_GROWTH, largest)


def wait_for_execution(
    client: Any,
    execution_arn: str,
    timeout_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    say: Callable[[str], None] = print,
) -> WaitResult:
    """Poll the execution until it ends or the timeout passes, reporting step status changes."""
    deadline = clock() + timeout_seconds
    seen: dict[str, str] = {}
    intervals = poll_intervals()
    while True:
        description = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        status = description["PipelineExecutionStatus"]
        steps = list_steps(client, execution_arn)
        for step in steps:
            name, step_status = step["StepName"], step.get("StepStatus", "Unknown")
            if seen.get(name) != step_status:
                seen[name] = step_status
                reason = f": {step['FailureReason']}" if step.get("FailureReason") else ""
                say(f"  step {name}: {step_status}{reason}")
        if status in DONE:
            failed = [
                f"{step['StepName']}: {step.get('FailureReason', 'no reason given')}"
                for step in steps
                if step.get("StepStatus") == "Failed"
            ]
            return WaitResult(status, description.get("FailureReason", ""), failed)
        remaining = deadline - clock()
        if remaining <= 0:
            return WaitResult(status, timed_out=True)
        sleep(min(next(intervals), remaining))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-n", "--module-name", required=True, help="module with get_pipeline, e.g. pipelines.abalone.pipeline"
    )
    parser.add_argument("--role-arn", required=True, help="the role SageMaker Pipelines runs the steps with")
    parser.add_argument(
        "--tags", default=None, help='JSON list of {"Key": ..., "Value": ...} for the pipeline'
    )
    parser.add_argument("--kwargs", default=None, help="JSON object of keyword arguments for get_pipeline")
    parser.add_argument("--description", default=None, help="the pipeline's description")
    parser.add_argument(
        "--timeout-minutes",
        type=float,
        default=None,
        help=f"how long to wait for the execution (default: ${TIMEOUT_ENV}, else {DEFAULT_TIMEOUT_MINUTES})",
    )
    args = parser.parse_args(argv)
    if args.timeout_minutes is None:
        text = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_MINUTES))
        try:
            args.timeout_minutes = float(text)
        except ValueError:
            parser.error(f"${TIMEOUT_ENV}: expected a number of minutes, got {text!r}")
    if args.timeout_minutes <= 0:
        parser.error(f"--timeout-minutes must be positive, got {args.timeout_minutes}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        kwargs = parse_json_argument("kwargs", args.kwargs, dict)
        tags = convert_struct(args.tags)
        pipeline = get_pipeline_driver(args.module_name, kwargs)
    except (ValueError, FileNotFoundError) as error:
        print(f"run-pipeline: {error}", file=sys.stderr)
        return 2
    definition = json.loads(pipeline.definition())
    print(f"Pipeline {pipeline.name}: steps {', '.join(step['Name'] for step in definition['Steps'])}")
    response = pipeline.upsert(role_arn=args.role_arn, description=args.description, tags=tags)
    print(f"Upserted {response['PipelineArn']}")
    execution = pipeline.start()
    execution_arn = execution.arn
    print(f"Started {execution_arn}; waiting at most {args.timeout_minutes:g} minutes")
    client = pipeline.sagemaker_session.sagemaker_client
    result = wait_for_execution(client, execution_arn, args.timeout_minutes * 60)
    if result.timed_out:
        print(
            f"run-pipeline: the execution is still {result.status} after {args.timeout_minutes:g} minutes; "
            f"it keeps running in SageMaker ({execution_arn}). Raise --timeout-minutes or ${TIMEOUT_ENV} "
            "(and the build project's timeout) if it needs longer.",
            file=sys.stderr,
        )
        return 1
    if result.status != "Succeeded":
        reason = result.failure_reason or "no reason given"
        print(f"run-pipeline: the execution ended {result.status}: {reason}", file=sys.stderr)
        for line in result.failed_steps:
            print(f"  failed step {line}", file=sys.stderr)
        return 1
    print(f"Execution {execution_arn} succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
