"""checkov (its own environment, offline) finds nothing on any variant rendered with every condition on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from generator_helpers import Evaluator, example_values

from generator.render import render_all

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def test_all_conditions_on_makes_every_condition_true(tmp_path: Path) -> None:
    for path in render_all(tmp_path, all_conditions_on=True):
        template = yaml.safe_load(path.read_text())
        off = {name: "false" for name in template["Parameters"] if name.endswith("IsSeedcodeRequired")}
        evaluator = Evaluator(template, example_values("v1" if off else "v2", **off))
        assert all(evaluator.condition(name) for name in template.get("Conditions", {})), path.name
        assert len(evaluator.active_resources()) == len(template["Resources"])


@pytest.mark.slow  # about 10 s: checkov loads all of its checks
@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is not installed; `make checkov` installs it")
def test_checkov_reports_no_failed_check(tmp_path: Path) -> None:
    render_all(tmp_path, all_conditions_on=True)
    result = subprocess.run(
        [
            str(CHECKOV),
            "--skip-download",
            "--quiet",
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "-d",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    summary = report["summary"] if isinstance(report, dict) else report[0]["summary"]
    assert summary["failed"] == 0, result.stdout[:4000]
    assert summary["passed"] > 0
