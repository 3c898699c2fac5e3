"""Independent steps of a pipeline run at the same time; a step waits for what it depends on (DependsOn or a
property it reads), as SageMaker schedules them."""

from __future__ import annotations

import boto3
from moto import mock_aws
from pipeline_samples import REGION

from standin.sagemaker.pipelines.definition import new_execution_id
from standin.sagemaker.pipelines.engine import PipelineRun
from standin.sagemaker.pipelines.records import ExecutionRecord, StepCache

NAP = 1.0


def sleeper(name: str, **extra: object) -> dict:
    """A processing step whose job sleeps NAP seconds."""
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}},
            "AppSpecification": {
                "ImageUri": "image",
                "ContainerEntrypoint": ["python3", "-c", f"import time; time.sleep({NAP})"],
            },
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            **extra,
        },
    }


def execute(steps: list[dict], tmp_path, max_parallel: int | None = None) -> ExecutionRecord:
    execution_id = new_execution_id()
    record = ExecutionRecord(
        arn=f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/p/execution/{execution_id}",
        pipeline_name="p",
        pipeline_arn=f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/p",
        execution_id=execution_id,
        parameters=[],
    )
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": steps}
    with mock_aws():

        def clients(service: str):
            return boto3.client(service, region_name=REGION)

        limit = {"max_parallel": max_parallel} if max_parallel else {}
        return PipelineRun(definition, record, clients, tmp_path, StepCache(), **limit).run()


def timing(record: ExecutionRecord) -> dict:
    return {s.name: (s.start_time, s.end_time) for s in record.steps}


def test_independent_steps_run_together_and_dependents_wait_for_them(tmp_path):
    reads_a = {"Environment": {"FROM_A": {"Get": "Steps.A.ProcessingJobName"}}}
    record = execute(
        [
            sleeper("A"),
            sleeper("B"),
            sleeper("AfterBoth") | {"DependsOn": ["A", "B"]},
            sleeper("ReadsA", **reads_a),
        ],
        tmp_path,
    )
    assert record.status == "Succeeded", record.failure_reason
    when = timing(record)
    assert when["B"][0] < when["A"][1] and when["A"][0] < when["B"][1], "A and B did not overlap"
    assert when["AfterBoth"][0] >= max(when["A"][1], when["B"][1])
    assert when["ReadsA"][0] >= when["A"][1]
    # ReadsA needs only A: it does not wait for B's successor
    assert when["ReadsA"][0] < when["AfterBoth"][1]


def test_max_parallel_steps_one_runs_them_one_after_another(tmp_path):
    record = execute([sleeper("A"), sleeper("B")], tmp_path, max_parallel=1)
    assert record.status == "Succeeded", record.failure_reason
    when = timing(record)
    first, second = sorted(when.values())
    assert second[0] >= first[1]


def test_a_failed_step_starts_nothing_new_and_fails_the_execution(tmp_path):
    broken = sleeper("Broken")
    broken["Arguments"]["AppSpecification"]["ContainerEntrypoint"] = ["python3", "-c", "raise SystemExit(3)"]
    record = execute([broken, sleeper("Slow"), sleeper("Next") | {"DependsOn": ["Slow"]}], tmp_path)
    assert record.status == "Failed"
    assert record.failure_reason.startswith("Step Broken failed: AlgorithmError")
    by_name = {s.name: s.status for s in record.steps}
    assert by_name == {"Broken": "Failed", "Slow": "Succeeded"}


def test_a_dependency_on_an_unknown_step_fails_before_any_step_runs(tmp_path):
    record = execute([sleeper("A"), sleeper("B") | {"DependsOn": ["Nowhere"]}], tmp_path)
    assert record.status == "Failed" and "Nowhere" in record.failure_reason
    assert record.steps == []
