"""docs/ci-example.yml: its `run:` steps, run as GitHub runs them, on the stand-in with the wheel."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml
from release_helpers import ROOT, outside

from permissions.trust import trust_policy

WORKFLOW = ROOT / "docs" / "ci-example.yml"


def run_steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return [step for step in job["steps"] if "run" in step]


def pipx_shim(bin_dir: Path, venv: Path, wheel: Path) -> None:
    """`pipx install WHEEL` as pipx does it, for the wheel already installed in `venv` (offline)."""
    bin_dir.mkdir()
    (bin_dir / "pipx").write_text(
        "#!/bin/sh\n"
        f'[ "$1" = install ] && [ "$2" = "{wheel}" ] || {{ echo "pipx shim: unexpected $*" >&2; exit 2; }}\n'
        f'ln -sf "{venv}/bin/sm-mlops" "{bin_dir}/sm-mlops"\n'
    )
    (bin_dir / "pipx").chmod(0o755)


def account_as_ci_finds_it(standin: Any) -> tuple[str, str]:
    """What an admin did once: a Studio domain and role, the CI role, a connection with its handshake done."""
    iam, trust = standin.client("iam"), json.dumps(trust_policy(["sagemaker.amazonaws.com"]))
    studio = iam.create_role(RoleName="StudioExecution", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    standin.client("sagemaker").create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": studio},
        SubnetIds=["subnet-0ci"],
        VpcId="vpc-0ci",
    )
    ci_role = iam.create_role(RoleName="github-ci", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    connection = standin.client("codestar-connections").create_connection(
        ConnectionName="github", ProviderType="GitHub", Tags=[{"Key": "sagemaker", "Value": "true"}]
    )["ConnectionArn"]
    standin.admin.authorize_connection(connection)
    return ci_role, connection


def test_the_example_workflow_s_run_steps_succeed(
    venv: Path, wheel: Path, standin: Any, standin_env: dict[str, str], tmp_path: Path
) -> None:
    steps = run_steps()
    assert steps and all("${{" not in step["run"] for step in steps), "run steps read only the job's env"
    subprocess.run(
        [str(venv / "bin" / "sm-mlops"), "bootstrap"], env=outside(), check=True, capture_output=True
    )
    ci_role, connection = account_as_ci_finds_it(standin)
    pipx_shim(tmp_path / "bin", venv, wheel)
    env = outside() | {
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "SM_MLOPS_WHEEL": str(wheel),
        "CI_ROLE_ARN": ci_role,
        "CONNECTION_ARN": connection,
    }
    work = tmp_path / "work"
    work.mkdir()
    for step in steps:
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{step['name']}: {done.stderr}"
    assert json.loads((work / "registration.json").read_text())["product_id"]
