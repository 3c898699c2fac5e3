"""CodeBuild builds that run: phases, log, artifacts, environment, sources, through the API and in Python."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from standin.codebuild import BuildRunner, BuildspecError, parse_buildspec, requirements_hash
from standin.codebuild.environments import VenvCache
from standin.testing import wait_for

PROJECT_ENV = {
    "type": "LINUX_CONTAINER",
    "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
    "computeType": "BUILD_GENERAL1_SMALL",
    "environmentVariables": [
        {"name": "FROM_PROJECT", "value": "project"},
        {"name": "OVERRIDDEN", "value": "no"},
    ],
}


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def wait_build(codebuild, build_id: str, timeout: float = 60) -> dict:
    def finished():
        build = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
        return None if build["buildStatus"] == "IN_PROGRESS" else build

    return wait_for(finished, timeout, f"build {build_id} to finish")


def log_of(build: dict) -> str:
    return Path(build["logs"]["s3DeepLink"].removeprefix("file://")).read_text()


BUILDSPEC = """version: 0.2
env:
  variables:
    FROM_SPEC: spec
phases:
  install:
    commands:
      - export CARRIED=yes
  build:
    commands:
      - echo "project=$FROM_PROJECT spec=$FROM_SPEC over=$OVERRIDDEN carried=$CARRIED"
      - test "$HOME" != "$REAL_HOME"
      - git config --global user.name builder && cat "$HOME/.gitconfig"
      - aws s3 cp "s3://sources/input.txt" copied.txt
      - cat "$CODEBUILD_SRC_DIR_extra/extra.txt" >> copied.txt
      - mkdir -p out && cp copied.txt out/ && cp main.txt out/
artifacts:
  files:
    - '**/*'
  base-directory: out
"""


def test_start_build_runs_the_buildspec_with_sources_and_overrides(standin) -> None:
    s3, codebuild = standin.client("s3"), standin.client("codebuild")
    s3.create_bucket(Bucket="sources")
    s3.put_object(Bucket="sources", Key="input.txt", Body=b"from s3\n")
    s3.put_object(
        Bucket="sources", Key="main.zip", Body=zipped({"main.txt": "main", "buildspec.yml": BUILDSPEC})
    )
    s3.put_object(Bucket="sources", Key="extra.zip", Body=zipped({"extra.txt": "extra\n"}))
    codebuild.create_project(
        name="checkin",
        source={"type": "S3", "location": "sources/main.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment=PROJECT_ENV,
        serviceRole="arn:aws:iam::123456789012:role/build",
    )
    started = codebuild.start_build(
        projectName="checkin",
        environmentVariablesOverride=[
            {"name": "OVERRIDDEN", "value": "yes", "type": "PLAINTEXT"},
            {"name": "REAL_HOME", "value": os.path.expanduser("~"), "type": "PLAINTEXT"},
        ],
        secondarySourcesOverride=[
            {"type": "S3", "location": "sources/extra.zip", "sourceIdentifier": "extra"}
        ],
    )["build"]
    assert started["buildStatus"] == "IN_PROGRESS"
    build = wait_build(codebuild, started["id"])
    log = log_of(build)
    assert build["buildStatus"] == "SUCCEEDED", log
    assert build["currentPhase"] == "COMPLETED"
    phases = [(p["phaseType"], p.get("phaseStatus")) for p in build["phases"]]
    assert phases[:8] == [
        ("SUBMITTED", "SUCCEEDED"),
        ("DOWNLOAD_SOURCE", "SUCCEEDED"),
        ("PROVISIONING", "SUCCEEDED"),
        ("INSTALL", "SUCCEEDED"),
        ("PRE_BUILD", "SUCCEEDED"),
        ("BUILD", "SUCCEEDED"),
        ("POST_BUILD", "SUCCEEDED"),
        ("UPLOAD_ARTIFACTS", "SUCCEEDED"),
    ]
    assert "project=project spec=spec over=yes carried=yes" in log
    assert "name = builder" in log
    assert build["logs"]["deepLink"].startswith("https://console.aws.amazon.com/cloudwatch/")
    assert codebuild.list_builds_for_project(projectName="checkin")["ids"] == [started["id"]]
    from standin.codebuild import runner_for

    artifacts = runner_for(standin).builds[started["id"]].artifacts
    assert sorted(p.name for p in artifacts.iterdir()) == ["copied.txt", "main.txt"]
    assert (artifacts / "copied.txt").read_text() == "from s3\nextra\n"


def test_a_failing_build_reports_the_command_and_its_output(standin) -> None:
    codebuild = standin.client("codebuild")
    spec = (
        "version: 0.2\nphases:\n  build:\n    commands:\n      - echo starting\n"
        "      - python3 -c 'import sys; print(\"model gate failed\"); sys.exit(3)'\n      - echo never\n"
        "  post_build:\n    commands:\n      - echo cleanup ran\n"
    )
    codebuild.create_project(
        name="failing",
        source={"type": "NO_SOURCE", "location": "unused", "buildspec": spec},  # moto wants a location
        artifacts={"type": "NO_ARTIFACTS"},
        environment=PROJECT_ENV,
        serviceRole="arn:aws:iam::123456789012:role/build",
    )
    build = wait_build(codebuild, codebuild.start_build(projectName="failing")["build"]["id"])
    log = log_of(build)
    assert build["buildStatus"] == "FAILED"
    phase = next(p for p in build["phases"] if p["phaseType"] == "BUILD")
    assert phase["phaseStatus"] == "FAILED"
    assert "exit status 3" in phase["contexts"][0]["message"]
    assert "model gate failed" in log and "never" not in log.replace("echo never", "")
    assert "cleanup ran" in log
    events = standin.client("logs").get_log_events(
        logGroupName=build["logs"]["groupName"], logStreamName=build["logs"]["streamName"]
    )["events"]
    assert any("model gate failed" in event["message"] for event in events)


def test_a_missing_source_fails_the_build_with_a_client_error(standin) -> None:
    codebuild = standin.client("codebuild")
    codebuild.create_project(
        name="nosource",
        source={"type": "S3", "location": "nowhere/missing.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment=PROJECT_ENV,
        serviceRole="arn:aws:iam::123456789012:role/build",
    )
    build = wait_build(codebuild, codebuild.start_build(projectName="nosource")["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    assert "nowhere/missing.zip" in build["phases"][-1]["contexts"][0]["message"]


def test_a_source_zip_with_an_entry_leaving_the_folder_fails_and_changes_nothing_outside(
    standin, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("private\n")
    victim.chmod(0o600)
    # From the build's download folder (<state>/codebuild/builds/<id>/download/primary) up to the file system
    # root, then down to the victim: the entry names the victim whatever the depth of the stand-in's state.
    up = "../" * (len((standin.state_dir / "codebuild" / "builds" / "x" / "download" / "primary").parts) - 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        out.writestr("buildspec.yml", BUILDSPEC)
        evil = zipfile.ZipInfo(up + str(victim).lstrip("/"))
        evil.external_attr = 0o777 << 16
        out.writestr(evil, "evil\n")
    s3 = standin.client("s3")
    s3.create_bucket(Bucket="evil-sources")
    s3.put_object(Bucket="evil-sources", Key="evil.zip", Body=buf.getvalue())
    codebuild = standin.client("codebuild")
    codebuild.create_project(
        name="evil",
        source={"type": "S3", "location": "evil-sources/evil.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment=PROJECT_ENV,
        serviceRole="arn:aws:iam::123456789012:role/build",
    )
    build = wait_build(codebuild, codebuild.start_build(projectName="evil")["build"]["id"])
    assert build["buildStatus"] == "FAILED"
    assert "outside" in build["phases"][-1]["contexts"][0]["message"]
    assert stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert victim.read_text() == "private\n"


def test_the_aws_cli_starts_and_reads_a_build(standin, tmp_path: Path) -> None:
    codebuild = standin.client("codebuild")
    codebuild.create_project(
        name="cli",
        source={"type": "NO_SOURCE", "location": "unused", "buildspec": "version: 0.2\nphases: {}\n"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment=PROJECT_ENV,
        serviceRole="arn:aws:iam::123456789012:role/build",
    )
    env = {**standin.env, "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    aws = str(Path(sys.executable).parent / "aws")
    started = subprocess.run(
        [aws, "codebuild", "start-build", "--project-name", "cli"], env=env, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    build_id = json.loads(started.stdout)["build"]["id"]
    assert wait_build(codebuild, build_id)["buildStatus"] == "SUCCEEDED"


def test_python_api_artifacts_secondary_artifacts_and_discard_paths(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "deep" / "er").mkdir(parents=True)
    (source / "deep" / "er" / "a.json").write_text("{}")
    (source / "top.txt").write_text("top")
    spec = """version: 0.2
phases:
  build:
    commands:
      - echo made > made.txt
artifacts:
  files: ['deep/**/*', made.txt]
  discard-paths: yes
  secondary-artifacts:
    Report:
      files: [top.txt]
"""
    runner = BuildRunner(tmp_path / "work", env={"AWS_REGION": "eu-west-1"}, cache_dir=tmp_path / "cache")
    result = runner.run({"name": "api", "source": {"buildspec": spec}}, primary_source=source)
    assert result.status == "SUCCEEDED", result.log_text
    assert sorted(p.name for p in result.artifacts.iterdir()) == ["a.json", "made.txt"]
    assert [p.name for p in result.secondary_artifacts["Report"].iterdir()] == ["top.txt"]
    assert result.build_id.startswith("api:") and result.arn.startswith("arn:aws:codebuild:eu-west-1:")
    assert runner.builds[result.build_id] is result


def test_no_file_matching_the_artifacts_fails_the_upload(tmp_path: Path) -> None:
    spec = "version: 0.2\nphases: {}\nartifacts:\n  files: [missing.txt]\n"
    runner = BuildRunner(tmp_path / "work", cache_dir=tmp_path / "cache")
    result = runner.run({"name": "api", "source": {"buildspec": spec}})
    assert result.status == "FAILED"
    assert "missing.txt" in result.log_text


@pytest.mark.parametrize(
    ("case", "text", "field"),
    [
        ("not yaml", "version: [", "not valid YAML"),
        ("wrong version", "version: 0.3\nphases: {}", "'version'"),
        ("unknown phase", "version: 0.2\nphases:\n  deploy: {commands: [x]}", "phases.deploy"),
        ("commands not a list", "version: 0.2\nphases:\n  build: {commands: x}", "phases.build.commands"),
    ],
)
def test_bad_buildspecs_name_the_field(case: str, text: str, field: str) -> None:
    with pytest.raises(BuildspecError, match="buildspec") as raised:
        parse_buildspec(text)
    assert field in str(raised.value)


def test_requirements_hash_follows_the_requirement_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "requirements.txt").write_text("boto3\n")
        (tmp_path / folder / "code.py").write_text(folder)
    assert requirements_hash(tmp_path / "a") == requirements_hash(tmp_path / "b")
    (tmp_path / "b" / "setup.cfg").write_text("[metadata]\n")
    assert requirements_hash(tmp_path / "a") != requirements_hash(tmp_path / "b")


def test_pip_install_goes_to_the_build_venv_offline_and_the_venv_is_reused(tmp_path: Path) -> None:
    source = tmp_path / "pkg"
    (source / "tinyseed").mkdir(parents=True)
    (source / "tinyseed" / "__init__.py").write_text("VALUE = 42\n")
    (source / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tinyseed"\nversion = "0.1"\ndependencies = ["boto3"]\n'
        '[tool.setuptools]\npackages = ["tinyseed"]\n'
    )
    spec = (
        "version: 0.2\nphases:\n  install:\n    commands:\n      - pip install --quiet .\n"
        "  build:\n    commands:\n"
        "      - cd / && python3 -c 'import tinyseed, sys; print(tinyseed.VALUE, sys.prefix)'\n"
    )
    runner = BuildRunner(tmp_path / "work", cache_dir=tmp_path / "cache")
    first = runner.run({"name": "pip", "source": {"buildspec": spec}}, primary_source=source)
    assert first.status == "SUCCEEDED", first.log_text
    assert f"42 {first.work_dir / 'venv'}" in first.log_text
    # Another build with the same requirements starts from the same cached environment, without what the
    # first one installed (each build has its own copy, as each CodeBuild build a clean image).
    probe = "version: 0.2\nphases:\n  build:\n    commands:\n      - cd / && python3 -c 'import tinyseed'\n"
    second = runner.run({"name": "pip", "source": {"buildspec": probe}}, primary_source=source)
    assert second.status == "FAILED" and "No module named 'tinyseed'" in second.log_text
    assert len(list((tmp_path / "cache").glob("venv-*"))) == 1
    cached = next((tmp_path / "cache").glob("venv-*"))
    assert not list(cached.glob("lib/python3*/site-packages/tinyseed*"))
    # The stand-in's own environment is untouched.
    probe_run = subprocess.run([sys.executable, "-c", "import tinyseed"], capture_output=True, cwd=tmp_path)
    assert probe_run.returncode != 0


def test_the_environment_cache_is_shared_by_runners_and_made_once_when_asked_at_the_same_time(
    tmp_path: Path,
) -> None:
    """Two stand-ins (here two caches on one folder, as two processes would be) share what is made."""
    caches = [VenvCache(tmp_path / "cache") for _ in range(4)]
    made: list[Path] = []
    threads = [threading.Thread(target=lambda c=c: made.append(c.get("same-requirements"))) for c in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 1 and (made[0] / "bin" / "python3").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(("venv-", ".venv-"))] == [
        made[0].name
    ]
    copy = caches[0].checkout("same-requirements", tmp_path / "build" / "venv")
    pip = subprocess.run([str(copy / "bin" / "pip"), "--version"], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    where = subprocess.run(
        [str(copy / "bin" / "python3"), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True
    )
    assert where.stdout.strip() == str(copy)


def test_the_environment_cache_defaults_to_the_users_cache_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STANDIN_BUILD_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert VenvCache().root == tmp_path / "xdg" / "sm-mlops-standin"
    monkeypatch.setenv("STANDIN_BUILD_CACHE", str(tmp_path / "mine"))
    assert BuildRunner(tmp_path / "work").cache.root == tmp_path / "mine"


def test_stop_build_stops_the_running_command(standin) -> None:
    codebuild = standin.client("codebuild")
    spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo started\n      - sleep 30\n"
    codebuild.create_project(
        name="long",
        source={"type": "NO_SOURCE", "location": "unused", "buildspec": spec},
        artifacts={"type": "NO_ARTIFACTS"},
        environment=PROJECT_ENV,
        serviceRole="arn:aws:iam::123456789012:role/build",
    )
    build_id = codebuild.start_build(projectName="long")["build"]["id"]
    wait_for(
        lambda: "Running command sleep" in log_of(codebuild.batch_get_builds(ids=[build_id])["builds"][0]),
        20,
        f"build {build_id}'s log to show its sleep command running",
        interval=0.05,
    )
    began = time.monotonic()
    stopped = codebuild.stop_build(id=build_id)["build"]
    assert time.monotonic() - began < 10
    assert stopped["buildStatus"] == "STOPPED"
    with pytest.raises(codebuild.exceptions.ResourceNotFoundException):
        codebuild.stop_build(id="long:00000000-0000-0000-0000-000000000000")


def test_a_stop_that_comes_as_a_command_starts_still_stops_it(tmp_path: Path, monkeypatch) -> None:
    """StopBuild between the log line "Running command" and the command's process: it finds no process to
    signal, so the runner itself stops the command it then starts."""
    runner = BuildRunner(tmp_path / "work", cache_dir=tmp_path / "cache")
    log = runner._log

    def log_then_stop(build, text: str) -> None:
        log(build, text)
        if "Running command sleep" in text:
            runner.stop(build.build_id)  # the process is not started yet

    monkeypatch.setattr(runner, "_log", log_then_stop)
    spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 30\n"
    began = time.monotonic()
    result = runner.run({"name": "stopped", "source": {"buildspec": spec}})
    assert result.status == "STOPPED", result.log_text
    assert time.monotonic() - began < 10
