"""run-pipeline: upsert, start, wait with a timeout and a pace that adapts; and get-pipeline-definition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import PIPELINE_KWARGS, ROLE

from pipelines import get_pipeline_definition, run_pipeline
from pipelines._utils import convert_struct, get_pipeline_driver, parse_json_argument

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc"


class FakeClock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedClient:
    """Answers describe/list calls from a script of (execution status, {step: status}) per poll."""

    def __init__(self, script: list[tuple[str, dict[str, str]]], failure_reason: str = "") -> None:
        self.script = script
        self.failure_reason = failure_reason
        self.polls = 0

    def describe_pipeline_execution(self, PipelineExecutionArn: str) -> dict[str, Any]:
        status = self.script[min(self.polls, len(self.script) - 1)][0]
        self.polls += 1
        answer = {"PipelineExecutionArn": PipelineExecutionArn, "PipelineExecutionStatus": status}
        if status == "Failed":
            answer["FailureReason"] = self.failure_reason
        return answer

    def list_pipeline_execution_steps(self, **kwargs: Any) -> dict[str, Any]:
        steps = self.script[min(self.polls - 1, len(self.script) - 1)][1]
        items = [
            {
                "StepName": name,
                "StepStatus": status,
                **({"FailureReason": "boom"} if status == "Failed" else {}),
            }
            for name, status in steps.items()
        ]
        # Two pages, to exercise the paginator.
        if "NextToken" not in kwargs:
            return {"PipelineExecutionSteps": items[:1], "NextToken": "more" if len(items) > 1 else None}
        return {"PipelineExecutionSteps": items[1:]}


def wait(
    client: ScriptedClient, timeout: float = 3600
) -> tuple[run_pipeline.WaitResult, list[str], FakeClock]:
    clock, lines = FakeClock(), []
    result = run_pipeline.wait_for_execution(
        client, ARN, timeout, sleep=clock.sleep, clock=clock, say=lines.append
    )
    return result, lines, clock


def test_step_status_is_printed_only_when_it_changes() -> None:
    client = ScriptedClient(
        [
            ("Executing", {"PreprocessAbaloneData": "Executing"}),
            ("Executing", {"PreprocessAbaloneData": "Executing"}),
            ("Executing", {"PreprocessAbaloneData": "Succeeded", "TrainAbaloneModel": "Executing"}),
            ("Succeeded", {"PreprocessAbaloneData": "Succeeded", "TrainAbaloneModel": "Succeeded"}),
        ]
    )
    result, lines, _ = wait(client)
    assert result == run_pipeline.WaitResult("Succeeded")
    assert lines == [
        "  step PreprocessAbaloneData: Executing",
        "  step PreprocessAbaloneData: Succeeded",
        "  step TrainAbaloneModel: Executing",
        "  step TrainAbaloneModel: Succeeded",
    ]


def test_an_instant_execution_ends_without_sleeping() -> None:
    result, _, clock = wait(ScriptedClient([("Succeeded", {"PreprocessAbaloneData": "Succeeded"})]))
    assert result.status == "Succeeded" and clock.sleeps == []


def test_polling_starts_fast_then_slows_down_to_a_minute() -> None:
    _, _, clock = wait(ScriptedClient([("Executing", {})] * 40 + [("Succeeded", {})]))
    assert clock.sleeps[0] == run_pipeline.FIRST_POLL_SECONDS
    assert clock.sleeps == sorted(clock.sleeps)
    assert clock.sleeps[-1] == run_pipeline.MAX_POLL_SECONDS
    # A 40-minute execution costs a few dozen polls, not a thousand.
    assert len(clock.sleeps) == 40
    assert sum(clock.sleeps) > 25 * 60  # 40 polls cover half an hour


def test_a_short_execution_is_seen_soon_after_it_ends() -> None:
    _, _, clock = wait(ScriptedClient([("Executing", {})] * 3 + [("Succeeded", {})]))
    # three polls while it runs: it ended within the last wait, which is a fraction of the time waited
    assert len(clock.sleeps) == 3 and sum(clock.sleeps) < 3


def test_the_timeout_is_honoured_and_reported() -> None:
    result, _, clock = wait(ScriptedClient([("Executing", {})]), timeout=600)
    assert result.timed_out and result.status == "Executing"
    assert clock.now == pytest.approx(600)


def test_a_failed_execution_carries_its_reasons() -> None:
    client = ScriptedClient(
        [("Failed", {"EvaluateAbaloneModel": "Succeeded", "AbaloneMSEFail": "Failed"})],
        failure_reason="Step failure: One or multiple steps failed.",
    )
    result, lines, _ = wait(client)
    assert result.status == "Failed"
    assert result.failure_reason == "Step failure: One or multiple steps failed."
    assert result.failed_steps == ["AbaloneMSEFail: boom"]
    assert "  step AbaloneMSEFail: Failed: boom" in lines


def test_the_timeout_defaults_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["--module-name", "m", "--role-arn", ROLE]
    monkeypatch.delenv(run_pipeline.TIMEOUT_ENV, raising=False)
    assert run_pipeline.parse_args(base).timeout_minutes == run_pipeline.DEFAULT_TIMEOUT_MINUTES
    monkeypatch.setenv(run_pipeline.TIMEOUT_ENV, "90")
    assert run_pipeline.parse_args(base).timeout_minutes == 90
    assert run_pipeline.parse_args([*base, "--timeout-minutes", "5"]).timeout_minutes == 5
    monkeypatch.setenv(run_pipeline.TIMEOUT_ENV, "soon")
    with pytest.raises(SystemExit):
        run_pipeline.parse_args(base)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "--kwargs: not valid JSON"),
        ("[1, 2]", "--kwargs: expected a JSON object, got list"),
    ],
)
def test_bad_kwargs_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_json_argument("kwargs", text, dict)


def test_tags_accept_a_list_or_an_object() -> None:
    expected = [{"Key": "a", "Value": "1"}]
    assert convert_struct('[{"Key": "a", "Value": "1"}]') == expected
    assert convert_struct('{"a": 1}') == expected
    assert convert_struct(None) == []
    with pytest.raises(ValueError, match=r"--tags: item 0 must be"):
        convert_struct('[{"Name": "a"}]')


def test_kwargs_get_pipeline_does_not_take_are_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match=r"--kwargs: get_pipeline of pipelines.abalone.pipeline takes no colour"
    ):
        get_pipeline_driver("pipelines.abalone.pipeline", {**PIPELINE_KWARGS, "colour": "blue"})
    with pytest.raises(ValueError, match=r"needs region, role"):
        get_pipeline_driver("pipelines.abalone.pipeline", {})
    with pytest.raises(ValueError, match=r"--module-name 'pipelines.nope'"):
        get_pipeline_driver("pipelines.nope", {})


def test_run_pipeline_upserts_starts_and_waits(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto records the pipeline and its execution (which it marks Succeeded at once) but has no step listing.
    monkeypatch.setattr(run_pipeline, "list_steps", lambda client, arn: [])
    argv = [
        "--module-name",
        "pipelines.abalone.pipeline",
        "--role-arn",
        ROLE,
        "--tags",
        '[{"Key": "sagemaker:project-name", "Value": "abalone"}]',
        "--kwargs",
        json.dumps(PIPELINE_KWARGS),
        "--timeout-minutes",
        "1",
    ]
    assert run_pipeline.main(argv) == 0
    assert run_pipeline.main(argv) == 0  # the second run updates the same pipeline
    out = capsys.readouterr().out
    assert (
        f"Upserted arn:aws:sagemaker:us-east-1:123456789012:pipeline/{PIPELINE_KWARGS['pipeline_name']}"
        in out
    )
    assert out.count("succeeded") == 2

    import boto3

    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    described = sagemaker.describe_pipeline(PipelineName=PIPELINE_KWARGS["pipeline_name"])
    assert json.loads(described["PipelineDefinition"])["Steps"][0]["Name"] == "PreprocessAbaloneData"
    executions = sagemaker.list_pipeline_executions(PipelineName=PIPELINE_KWARGS["pipeline_name"])
    assert len(executions["PipelineExecutionSummaries"]) == 2


def test_run_pipeline_reports_bad_kwargs(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--module-name", "pipelines.abalone.pipeline", "--role-arn", ROLE, "--kwargs", '{"region": 1']
    assert run_pipeline.main(argv) == 2
    assert "--kwargs: not valid JSON" in capsys.readouterr().err


def test_get_pipeline_definition_writes_the_json(aws: None, tmp_path: Path) -> None:
    target = tmp_path / "pipeline.json"
    argv = ["--module-name", "pipelines.abalone.pipeline", "--kwargs", json.dumps(PIPELINE_KWARGS)]
    assert get_pipeline_definition.main([*argv, "--file-name", str(target)]) == 0
    definition = json.loads(target.read_text())
    assert [step["Name"] for step in definition["Steps"]][0] == "PreprocessAbaloneData"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            run_pipeline.WaitResult("Failed", "Step failure", ["AbaloneMSEFail: MSE 7.1 is over 6.0"]),
            ["ended Failed: Step failure", "failed step AbaloneMSEFail: MSE 7.1 is over 6.0"],
        ),
        (
            run_pipeline.WaitResult("Executing", timed_out=True),
            ["still Executing after 1 minutes", "--timeout"],
        ),
    ],
    ids=["failed", "timed-out"],
)
def test_run_pipeline_exits_non_zero_with_the_reason(
    aws: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    result: run_pipeline.WaitResult,
    expected: list[str],
) -> None:
    monkeypatch.setattr(run_pipeline, "wait_for_execution", lambda *args, **kwargs: result)
    argv = ["--module-name", "pipelines.abalone.pipeline", "--role-arn", ROLE, "--timeout-minutes", "1"]
    assert run_pipeline.main([*argv, "--kwargs", json.dumps(PIPELINE_KWARGS)]) == 1
    err = capsys.readouterr().err
    for text in expected:
        assert text in err


def test_get_pipeline_definition_prints_only_json(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--module-name", "pipelines.abalone.pipeline", "--kwargs", json.dumps(PIPELINE_KWARGS)]
    assert get_pipeline_definition.main(argv) == 0
    definition = json.loads(capsys.readouterr().out)
    assert definition["Version"] == "2020-12-01"
