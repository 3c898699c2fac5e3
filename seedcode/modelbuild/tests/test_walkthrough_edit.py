"""The walkthrough's edit of pipeline.py changes the pipeline; building is deterministic across processes."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from helpers import OFFLINE_ENV, PIPELINE_KWARGS, REPO, parameter_defaults, resolve, steps_by_name

WALKTHROUGH_LINE = (
    'training_instance_type = ParameterString(name="TrainingInstanceType", default_value="ml.m5.xlarge")'
)
PIPELINE_FILE = REPO / "pipelines" / "abalone" / "pipeline.py"


def load_copy(folder: Path, edit: tuple[str, str] | None) -> ModuleType:
    """Copy the abalone folder, apply the edit to pipeline.py, and import the copy under a new name."""
    target = folder / "abalone_copy"
    shutil.copytree(PIPELINE_FILE.parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    source = (target / "pipeline.py").read_text()
    if edit:
        assert source.count(edit[0]) == 1, f"the line to edit is not in pipeline.py exactly once: {edit[0]}"
        (target / "pipeline.py").write_text(source.replace(*edit))
    name = f"abalone_copy_{'edited' if edit else 'original'}_{id(folder)}"
    spec = importlib.util.spec_from_file_location(name, target / "pipeline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_walkthrough_line_is_in_pipeline_py_verbatim() -> None:
    lines = [line.strip() for line in PIPELINE_FILE.read_text().splitlines()]
    assert WALKTHROUGH_LINE in lines


def test_editing_the_training_instance_type_changes_the_definition(aws: None, tmp_path: Path) -> None:
    edited_line = WALKTHROUGH_LINE.replace("ml.m5.xlarge", "ml.m5.large")
    definitions: dict[str, dict[str, Any]] = {}
    for label, edit in (("original", None), ("edited", (WALKTHROUGH_LINE, edited_line))):
        module = load_copy(tmp_path / label, edit)
        definitions[label] = json.loads(module.get_pipeline(**PIPELINE_KWARGS).definition())
    for label, expected in (("original", "ml.m5.xlarge"), ("edited", "ml.m5.large")):
        training = steps_by_name(definitions[label])["TrainAbaloneModel"]["Arguments"]
        assert resolve(definitions[label], training["ResourceConfig"]["InstanceType"]) == expected
    # Nothing else moved: the processing instances keep their defaults.
    original, edited = (parameter_defaults(definitions[label]) for label in ("original", "edited"))
    assert {k: v for k, v in original.items() if k != "TrainingInstanceType"} == {
        k: v for k, v in edited.items() if k != "TrainingInstanceType"
    }


BUILD_SCRIPT = """
import json, sys
from moto import mock_aws
import boto3
with mock_aws():
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=sys.argv[1])
    from pipelines.abalone.pipeline import get_pipeline
    sys.stdout.write(get_pipeline(**json.loads(sys.argv[2])).definition())
"""


@pytest.mark.slow  # two Python processes importing the SDK: about 10 s on 2 cores
def test_two_processes_build_identical_json(tmp_path: Path) -> None:
    env = {**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "random"}
    env.pop("AWS_ENDPOINT_URL", None)
    args = [
        sys.executable,
        "-c",
        BUILD_SCRIPT,
        PIPELINE_KWARGS["default_bucket"],
        json.dumps(PIPELINE_KWARGS),
    ]
    processes = [
        subprocess.Popen(
            args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
    first, second = (stdout for stdout, _ in outputs)
    assert json.loads(first)["Steps"], "the definition has no steps"
    assert first == second
