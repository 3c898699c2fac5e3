"""The seed check-in bootstrap (`seeding/bootstrap/checkin.py`) against a real Git server on loopback.

`checkin.py` runs as a subprocess, as the bootstrap buildspec runs it, with HOME set to a temporary folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from seeding.assets import BOOTSTRAP_DIR
from standin.gitserver import GitServer

ACCOUNT, REGION = "123456789012", "us-east-1"
SEED_ID = "modelbuild-0123456789abcdef.zip"
SEED_FILES = {
    "README.md": "# Model build\n\nSeeded README.\n",
    "pipelines/abalone/pipeline.py": "def get_pipeline():\n    return None\n",
    "setup.py": "from setuptools import setup\n\nsetup(name='pipelines')\n",
}
SEED_SCRIPT = "bin/run.sh"


def make_seed(path: Path, files: dict[str, str], executable: str | None = SEED_SCRIPT) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        if executable:
            info = zipfile.ZipInfo(executable)
            info.external_attr = 0o100755 << 16
            archive.writestr(info, "#!/bin/sh\necho run\n")
    return path


class Pushes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.refused: dict[str, str] = {}

    def on_push(self, full_name: str, branch: str, sha: str) -> None:
        self.seen.append((full_name, branch, sha))

    def authorize(self, connection_id: str) -> str | None:
        return self.refused.get(connection_id)


@pytest.fixture(scope="module")
def pushes() -> Pushes:
    return Pushes()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pushes: Pushes) -> Iterator[GitServer]:
    with GitServer(
        tmp_path_factory.mktemp("repos"), on_push=pushes.on_push, authorize=pushes.authorize
    ) as srv:
        yield srv


@pytest.fixture(autouse=True)
def seen(pushes: Pushes) -> Pushes:
    pushes.seen.clear()
    pushes.refused.clear()
    return pushes


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    """A build's source folder: the bootstrap's files plus the seed zip the buildspec copies there."""
    src = tmp_path / "src"
    shutil.copytree(BOOTSTRAP_DIR, src, ignore=shutil.ignore_patterns("__pycache__"))
    make_seed(src / "seed.zip", SEED_FILES)
    (tmp_path / "home").mkdir()
    return src


def run_checkin(
    build_dir: Path,
    repo_url: str,
    branch: str = "main",
    seed_id: str = SEED_ID,
    seed_zip: str = "seed.zip",
    extra_env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(build_dir.parent / "home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        **(extra_env or {}),
    }
    command = [sys.executable, "checkin.py", "--repo-url", repo_url, "--branch", branch]
    command += ["--seed-zip", seed_zip, "--seed-id", seed_id, *(extra_args or [])]
    return subprocess.run(command, cwd=build_dir, env=env, capture_output=True, text=True, timeout=60)


def url(server: GitServer, name: str) -> str:
    return server.proxy_url(ACCOUNT, REGION, "conn-1", name)


def expected_files(*extra: str) -> list[str]:
    return sorted([*SEED_FILES, SEED_SCRIPT, *extra])


@pytest.mark.parametrize("case", ["matching", "swapped"])
def test_a_seed_zip_with_another_hash_pushes_nothing(
    server: GitServer, seen: Pushes, build_dir: Path, case: str
) -> None:
    """The seed the custom resource checked may be swapped in the shared bucket before the build copies it."""
    name = f"ds/hash-{case}"
    server.create_repository(name)
    actual = hashlib.sha256((build_dir / "seed.zip").read_bytes()).hexdigest()
    expected = actual if case == "matching" else hashlib.sha256(b"the registered seed").hexdigest()
    result = run_checkin(build_dir, url(server, name), extra_args=["--seed-sha256", expected])
    if case == "matching":
        assert result.returncode == 0, result.stderr
        assert len(seen.seen) == 1
        return
    assert result.returncode == 2
    assert actual in result.stderr and expected in result.stderr and "sm-mlops register" in result.stderr
    assert seen.seen == [] and server.log(name, "main") == []


def test_empty_repository_gets_the_branch_as_its_first_commit(
    server: GitServer, seen: Pushes, build_dir: Path
) -> None:
    server.create_repository("ds/empty")
    result = run_checkin(build_dir, url(server, "ds/empty"))
    assert result.returncode == 0, result.stderr
    history = server.log("ds/empty", "main")
    assert len(history) == 1 and history[0].parents == ()
    assert f"Seed-Code: {SEED_ID}" in history[0].message.splitlines()
    assert history[0].author == "SageMaker Projects <sagemaker-projects@noreply.local>"
    assert server.list_files("ds/empty", "main") == expected_files()
    assert seen.seen == [("ds/empty", "main", history[0].sha)]
    assert "pushed seed" in result.stdout


def test_seed_lands_on_top_of_the_readme_and_keeps_other_files(
    server: GitServer, seen: Pushes, build_dir: Path, tmp_path: Path
) -> None:
    server.create_repository("ds/with-readme", readme="# with-readme\nplaceholder\n")
    # A second pre-existing commit adding a file the seed does not have.
    extra = make_seed(tmp_path / "license.zip", {"LICENSE": "MIT\n"}, executable=None)
    assert (
        run_checkin(
            build_dir, url(server, "ds/with-readme"), seed_id="license", seed_zip=str(extra)
        ).returncode
        == 0
    )
    before = server.log("ds/with-readme", "main")
    seen.seen.clear()

    result = run_checkin(build_dir, url(server, "ds/with-readme"))
    assert result.returncode == 0, result.stderr
    after = server.log("ds/with-readme", "main")
    assert len(after) == len(before) + 1
    assert after[1:] == before  # history keeps everything
    assert after[0].parents == (before[0].sha,)
    assert server.read_file("ds/with-readme", "main", "README.md").decode() == SEED_FILES["README.md"]
    assert server.read_file("ds/with-readme", "main", "LICENSE") == b"MIT\n"
    assert server.list_files("ds/with-readme", "main") == expected_files("LICENSE")
    assert [c.subject for c in after][-1] == "Initial commit"
    assert seen.seen == [("ds/with-readme", "main", after[0].sha)]


def test_executable_bit_survives(server: GitServer, build_dir: Path, tmp_path: Path) -> None:
    server.create_repository("ds/modes", readme="x\n")
    assert run_checkin(build_dir, url(server, "ds/modes")).returncode == 0
    tree = subprocess.run(
        ["git", f"--git-dir={server.path('ds/modes')}", "ls-tree", "-r", "main"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"},
    ).stdout
    modes = {line.split("\t")[1]: line.split()[0] for line in tree.splitlines()}
    assert modes[SEED_SCRIPT] == "100755"
    assert modes["README.md"] == "100644"


def test_missing_branch_is_created_from_the_default_branch(
    server: GitServer, seen: Pushes, build_dir: Path
) -> None:
    server.create_repository("ds/branchless", readme="placeholder\n")
    main_before = server.head("ds/branchless", "main")
    result = run_checkin(build_dir, url(server, "ds/branchless"), branch="release/dev")
    assert result.returncode == 0, result.stderr
    assert "does not exist" in result.stdout
    assert server.head("ds/branchless", "main") == main_before
    dev = server.log("ds/branchless", "release/dev")
    assert [c.sha for c in dev[1:]] == [main_before]
    assert server.list_files("ds/branchless", "release/dev") == expected_files()
    assert seen.seen == [("ds/branchless", "release/dev", dev[0].sha)]


def test_second_run_with_the_same_seed_does_nothing(server: GitServer, seen: Pushes, build_dir: Path) -> None:
    server.create_repository("ds/twice", readme="x\n")
    assert run_checkin(build_dir, url(server, "ds/twice")).returncode == 0
    head = server.head("ds/twice", "main")
    seen.seen.clear()
    again = run_checkin(build_dir, url(server, "ds/twice"))
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert server.head("ds/twice", "main") == head
    assert seen.seen == []


def test_a_new_seed_version_is_one_more_commit(server: GitServer, build_dir: Path, tmp_path: Path) -> None:
    server.create_repository("ds/upgrade", readme="x\n")
    assert run_checkin(build_dir, url(server, "ds/upgrade")).returncode == 0
    newer = make_seed(tmp_path / "v2.zip", {**SEED_FILES, "setup.py": "# v2\n"})
    result = run_checkin(
        build_dir, url(server, "ds/upgrade"), seed_id="modelbuild-v2.zip", seed_zip=str(newer)
    )
    assert result.returncode == 0, result.stderr
    history = server.log("ds/upgrade", "main")
    assert [c.subject for c in history] == [
        "Add seed code modelbuild-v2.zip",
        f"Add seed code {SEED_ID}",
        "Initial commit",
    ]
    assert server.read_file("ds/upgrade", "main", "setup.py") == b"# v2\n"


def test_rejected_push_fails_clearly_and_leaves_the_remote_untouched(
    server: GitServer, seen: Pushes, build_dir: Path
) -> None:
    repo = server.create_repository("ds/protected", readme="keep me\n")
    hook = repo / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    before = server.log("ds/protected", "main")
    result = run_checkin(build_dir, url(server, "ds/protected"))
    assert result.returncode == 4
    assert "rejected" in result.stderr
    assert url(server, "ds/protected") in result.stderr
    assert "branch main" in result.stderr
    assert "GH006: Protected branch update failed" in result.stderr
    assert server.log("ds/protected", "main") == before
    assert server.read_file("ds/protected", "main", "README.md") == b"keep me\n"
    assert seen.seen == []


def test_unreachable_repository_fails_with_the_clone_exit_code(server: GitServer, build_dir: Path) -> None:
    result = run_checkin(build_dir, url(server, "ds/does-not-exist"))
    assert result.returncode == 3
    assert "cannot clone" in result.stderr
    assert "ds/does-not-exist" in result.stderr


def test_refused_connection_shows_the_reason(server: GitServer, seen: Pushes, build_dir: Path) -> None:
    server.create_repository("ds/pending", readme="x\n")
    seen.refused["conn-1"] = "connection conn-1 is PENDING"
    result = run_checkin(build_dir, url(server, "ds/pending"))
    assert result.returncode == 3
    assert "connection conn-1 is PENDING" in result.stderr
    assert len(server.log("ds/pending", "main")) == 1


def test_credentials_in_the_url_stay_out_of_the_log(server: GitServer, build_dir: Path) -> None:
    server.create_repository("ds/secret", readme="x\n")
    with_password = url(server, "ds/secret").replace("http://", "http://user:s3cr3t@")
    result = run_checkin(build_dir, with_password)
    assert result.returncode == 0, result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr


def test_author_is_configurable(server: GitServer, build_dir: Path) -> None:
    server.create_repository("ds/author")
    env = {"SEED_CODE_AUTHOR_NAME": "Platform Team", "SEED_CODE_AUTHOR_EMAIL": "platform@example.com"}
    assert run_checkin(build_dir, url(server, "ds/author"), extra_env=env).returncode == 0
    assert server.log("ds/author", "main")[0].author == "Platform Team <platform@example.com>"


@pytest.mark.parametrize(
    ("case", "kwargs", "message"),
    [
        ("bad branch", {"branch": "no..dots"}, "--branch"),
        ("missing zip", {"seed_zip": "missing.zip"}, "does not exist"),
        ("empty seed id", {"seed_id": ""}, "--seed-id"),
        ("empty url", {"repo_url": ""}, "--repo-url is empty"),
    ],
)
def test_bad_arguments_exit_2_naming_the_field(
    server: GitServer, build_dir: Path, case: str, kwargs: dict[str, str], message: str
) -> None:
    server.create_repository(f"ds/args-{len(server.repositories())}", readme="x\n")
    repo_url = kwargs.pop("repo_url", url(server, server.repositories()[-1]))
    result = run_checkin(build_dir, repo_url, **kwargs)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("case", "entry", "message"),
    [
        ("parent path", "../outside.txt", "outside the repository"),
        ("into .git", ".git/hooks/post-checkout", "into .git"),
    ],
)
def test_unsafe_seed_entries_are_refused(
    server: GitServer, build_dir: Path, tmp_path: Path, case: str, entry: str, message: str
) -> None:
    name = f"ds/unsafe-{case.replace(' ', '-').replace('.', '')}"
    server.create_repository(name, readme="x\n")
    bad = make_seed(tmp_path / "bad.zip", {entry: "x"}, executable=None)
    result = run_checkin(build_dir, url(server, name), seed_zip=str(bad))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(server.log(name, "main")) == 1


def test_a_file_of_the_repository_where_the_seed_has_a_folder(
    server: GitServer, build_dir: Path, tmp_path: Path
) -> None:
    server.create_repository("ds/clash", readme="x\n")
    first = make_seed(tmp_path / "first.zip", {"pipelines": "a file\n"}, executable=None)
    assert (
        run_checkin(build_dir, url(server, "ds/clash"), seed_id="first", seed_zip=str(first)).returncode == 0
    )
    result = run_checkin(build_dir, url(server, "ds/clash"))
    assert result.returncode == 0, result.stderr
    assert "pipelines/abalone/pipeline.py" in server.list_files("ds/clash", "main")
    assert "pipelines" not in server.list_files("ds/clash", "main")


def load_checkin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("checkin_under_test", BOOTSTRAP_DIR / "checkin.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("case", "given", "shown"),
    [
        ("plain", "https://host/o/r.git", "https://host/o/r.git"),
        ("user and token", "https://me:tok@host:8443/o/r.git", "https://host:8443/o/r.git"),
    ],
)
def test_redact(case: str, given: str, shown: str) -> None:
    assert load_checkin().redact(given) == shown


def test_rejection_reason_keeps_gits_words() -> None:
    stderr = (
        "To http://x/o/r.git\n! [remote rejected] main -> main (pre-receive hook declined)\nerror: failed\n"
    )
    reason = load_checkin().rejection_reason(stderr)
    assert "pre-receive hook declined" in reason
    assert "To http" not in reason


def test_buildspec_commands_run_as_codebuild_would(
    server: GitServer, seen: Pushes, tmp_path: Path, build_dir: Path
) -> None:
    """The bootstrap's buildspec, command by command, with S3 answered by moto and HOME a temporary folder."""
    server.create_repository("ds/buildspec", readme="placeholder\n")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        aws_env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
        }
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint, **_keys(aws_env))
        s3.create_bucket(Bucket="sagemaker-mlops-assets")
        upload = make_seed(tmp_path / "upload.zip", SEED_FILES)
        s3.put_object(Bucket="sagemaker-mlops-assets", Key=f"seedcode/{SEED_ID}", Body=upload.read_bytes())
        (build_dir / "seed.zip").unlink()

        spec = yaml.safe_load((BOOTSTRAP_DIR / "buildspec.yml").read_text())
        assert spec["version"] == 0.2
        commands = [
            c
            for phase in ("install", "pre_build", "build")
            for c in spec["phases"].get(phase, {}).get("commands", [])
        ]
        python_dir = tmp_path / "pybin"
        python_dir.mkdir()
        (python_dir / "python3").symlink_to(sys.executable)
        env = {
            "PATH": os.pathsep.join([str(python_dir), str(Path(sys.executable).parent), os.environ["PATH"]]),
            "HOME": str(tmp_path / "home"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "REPOSITORY_URL": url(server, "ds/buildspec"),
            "REPOSITORY_BRANCH": "main",
            "SEED_CODE_S3_URI": f"s3://sagemaker-mlops-assets/seedcode/{SEED_ID}",
            "SEED_CODE_ID": SEED_ID,
            "SEED_CODE_SHA256": hashlib.sha256(upload.read_bytes()).hexdigest(),
            **aws_env,
        }
        for command in commands:
            step = subprocess.run(
                ["bash", "-e", "-c", command],
                cwd=build_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert step.returncode == 0, f"{command}\n{step.stdout}\n{step.stderr}"
    finally:
        moto.stop()
    gitconfig = (tmp_path / "home" / ".gitconfig").read_text()
    assert "!aws codecommit credential-helper $@" in gitconfig
    assert "usehttppath = true" in gitconfig.lower()
    history = server.log("ds/buildspec", "main")
    assert [c.subject for c in history] == [f"Add seed code {SEED_ID}", "Initial commit"]
    assert seen.seen == [("ds/buildspec", "main", history[0].sha)]


def _keys(env: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }


def test_buildspec_refuses_a_missing_variable(build_dir: Path) -> None:
    spec = yaml.safe_load((BOOTSTRAP_DIR / "buildspec.yml").read_text())
    guard = spec["phases"]["pre_build"]["commands"][0]
    env = {"PATH": os.environ["PATH"], "REPOSITORY_URL": "https://x/o/r.git", "REPOSITORY_BRANCH": "main"}
    env["SEED_CODE_ID"] = SEED_ID
    result = subprocess.run(
        ["bash", "-e", "-c", guard], cwd=build_dir, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "SEED_CODE_S3_URI is empty" in result.stderr
