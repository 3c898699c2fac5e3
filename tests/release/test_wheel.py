"""The wheel a user installs: built from the sdist, installed into a new virtual environment, run from a
folder that is not a checkout, against the stand-in."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

from release_helpers import ROOT, outside

import scripts
from seeding import assets

WHERE = "import scripts, seeding; print(scripts.__file__, seeding.__file__)"


def run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "sm-mlops"), *args],
        cwd=cwd,
        env=outside(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_wheel_holds_the_templates_and_zips_and_no_tests_or_templates_package(wheel: Path) -> None:
    assert wheel.name.startswith(f"sagemaker_git_mlops-{scripts.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("sagemaker_git_mlops-")}
    assert tops == {"generator", "permissions", "scripts", "seeding", "standin"}
    for template in (ROOT / "templates").glob("*.yaml"):
        assert f"scripts/shipped/templates/{template.name}" in names
    assert {f"seeding/shipped/{a.key}" for a in assets.build_assets().values()} <= set(names)
    assert f"sagemaker_git_mlops-{scripts.__version__}.dist-info/licenses/LICENSE" in names


def test_installed_sm_mlops_answers_its_version_from_any_folder(venv: Path, tmp_path: Path) -> None:
    done = run(venv, tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["sm-mlops", scripts.__version__]


def test_installed_sm_mlops_registers_the_product_outside_a_checkout(
    venv: Path, tmp_path: Path, standin_env: dict[str, str]
) -> None:
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            WHERE,
        ],
        cwd=tmp_path,
        env=outside(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(path.startswith(str(venv)) for path in where), where

    boot = run(venv, tmp_path, "bootstrap")
    assert boot.returncode == 0, boot.stderr
    studio = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
    done = run(venv, tmp_path, "register", "--studio-role-arn", studio, "--output", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["product_id"] and result["provisioning_artifact_id"]

    import boto3

    s3 = boto3.client("s3")
    bucket = next(
        b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("sagemaker-mlops-assets")
    )
    for asset in assets.build_assets().values():
        stored = s3.get_object(Bucket=bucket, Key=asset.key)["Body"].read()
        assert stored == asset.data, asset.key
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="templates/")["Contents"]]
    (key,) = keys
    stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == (ROOT / "templates" / "mlops-third-party-git-v1.yaml").read_bytes()
