"""`make demo` end to end: the walkthrough leaves nothing of the project behind (slow: ~80-100 s)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from demo import run
from demo.walkthrough import KEPT, DemoResult, make_table

# What the template, the seed code and the walkthrough make for one project (its resources and what they run).
EXPECTED_AT_LEAST = {
    "project": 1,
    "CloudFormation stack": 3,  # the project's stack and the two deploy stacks
    "CodePipeline pipeline": 2,
    "CodeBuild project": 4,  # model build, model deploy, testing, seed check-in
    "Lambda function": 1,
    "EventBridge rule": 1,
    "SageMaker code repository": 2,
    "S3 bucket": 1,
    "SageMaker pipeline": 1,
    "model package group": 1,
    "model version": 2,  # the seed's first run and the walkthrough's edit
    "SageMaker endpoint": 2,  # staging and prod
    "log group": 7,  # the four CodeBuild projects', the function's and the two endpoints'
    "job log stream": 3,  # preprocessing, training, evaluation (the second run may reuse cached steps)
    "SageMaker experiment": 1,  # the SageMaker pipeline's
    "SageMaker trial": 2,  # one per execution
}


@pytest.mark.slow
def test_the_walkthrough_creates_everything_and_delete_removes_it(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run(out=out, timeout=900, log_path=tmp_path / "standin.log")
    counts = {kind: len(names) for kind, names in result.created.items()}
    short = {kind: n for kind, n in EXPECTED_AT_LEAST.items() if counts.get(kind, 0) < n}
    assert not short, f"created fewer than expected: {short}; created: {result.created}"
    assert all(not names for names in result.remaining.values()), result.remaining
    project_rows = [row for row in result.table if row["made by"] == "the project"]
    assert len(project_rows) == sum(counts.values())
    assert {row["after delete"] for row in project_rows} == {"removed"}
    assert any(row["after delete"] == KEPT for row in result.table)
    names = [name for name, _ in result.steps]
    for step in ("bootstrap", "step 1", "step 2", "step 3", "step 4", "step 5", "step 6"):
        assert any(name.startswith(step) for name in names), f"no step {step!r} in {names}"
    assert "nothing left" in out.getvalue()


def test_the_table_marks_what_outlived_the_delete() -> None:
    result = DemoResult(
        project="abalone",
        created={"S3 bucket": ["sagemaker-project-p-1"], "SageMaker pipeline": ["sagemaker-abalone-p-1"]},
        remaining={"S3 bucket": ["sagemaker-project-p-1"], "SageMaker pipeline": []},
    )
    rows = {row["resource"]: row["after delete"] for row in make_table(result)}
    assert rows["S3 bucket sagemaker-project-p-1"] == "LEFT"
    assert rows["SageMaker pipeline sagemaker-abalone-p-1"] == "removed"
