"""The wheel a user installs: built from the sdist, installed into a new virtual environment, run from a
folder that is not a checkout, against the stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import scripts
from seeding import assets

ROOT = Path(__file__).resolve().parents[2]
WHERE = "import scripts, seeding; print(scripts.__file__, seeding.__file__)"
PEP517 = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"


def outside() -> dict[str, str]:
    """The environment without PYTHONPATH: nothing of the checkout is importable."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def pep517(hook: str, source: Path, out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-c", PEP517, hook, str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        env=outside(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip would build: from the unpacked sdist (no .git, so the zips come from the manifest)."""
    out = tmp_path_factory.mktemp("dist")
    sdist = pep517("build_sdist", ROOT, out)
    with tarfile.open(sdist) as archive:
        archive.extractall(out / "unpacked", filter="data")
    (source,) = (out / "unpacked").iterdir()
    return pep517("build_wheel", source, out)


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding the wheel; its third-party packages come from this interpreter's site-packages."""
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        cwd=home,
        env=outside(),
    )
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Added after the venv's own site-packages, and without running that folder's .pth files (so the
    # shared environment's editable install of the checkout stays out).
    Path(own, "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return home


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
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("sagemaker_git_mlops-")}
    assert tops == {"generator", "scripts", "seeding", "standin"}
    for template in (ROOT / "templates").glob("*.yaml"):
        assert f"scripts/shipped/templates/{template.name}" in names
    assert {f"seeding/shipped/{a.key}" for a in assets.build_assets().values()} <= set(names)


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
