"""endpoint-config-template.yml: cfn-lint clean, and the endpoint is named <project>-<stage>."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from loader import REPO, load_template

TEMPLATE = REPO / "endpoint-config-template.yml"


def test_cfn_lint_is_clean_with_informational_checks() -> None:
    cfn_lint = shutil.which("cfn-lint") or str(Path(sys.executable).parent / "cfn-lint")
    if not Path(cfn_lint).exists():
        pytest.skip("cfn-lint is not installed (pip install -r requirements-dev.txt)")
    result = subprocess.run(
        [cfn_lint, "--include-checks", "I", "--", str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_endpoint_name_and_data_capture() -> None:
    resources = load_template()["Resources"]
    endpoint_name = resources["Endpoint"]["Properties"]["EndpointName"]
    assert endpoint_name == {"Sub": "${SageMakerProjectName}-${StageName}"}
    capture = resources["EndpointConfig"]["Properties"]["DataCaptureConfig"]["If"]
    assert capture[0] == "DataCaptureOn"
    assert capture[1]["DestinationS3Uri"] == {"Ref": "DataCaptureUploadPath"}
    assert {o["CaptureMode"] for o in capture[1]["CaptureOptions"]} == {"Input", "Output"}
    assert capture[2] == {"Ref": "AWS::NoValue"}
    container = resources["Model"]["Properties"]["PrimaryContainer"]
    assert container == {"ModelPackageName": {"Ref": "ModelPackageName"}}
