"""The loopback Git server: both URL views, connection authorisation, push notifications."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from standin.gitserver import GitServer, RepositoryExists, validate_full_name

ACCOUNT, REGION = "123456789012", "us-east-1"


def git(*args: str, cwd: Path, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git as a client with its own HOME, never the real user's config."""
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Tester",
        "GIT_AUTHOR_EMAIL": "tester@example.com",
        "GIT_COMMITTER_NAME": "Tester",
        "GIT_COMMITTER_EMAIL": "tester@example.com",
        "LC_ALL": "C",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=check)


class Recorder:
    def __init__(self) -> None:
        self.pushes: list[tuple[str, str, str]] = []
        self.refused: dict[str, str] = {}
        self.asked: list[str] = []

    def authorize(self, connection_id: str) -> str | None:
        self.asked.append(connection_id)
        return self.refused.get(connection_id)

    def on_push(self, full_name: str, branch: str, sha: str) -> None:
        self.pushes.append((full_name, branch, sha))


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, recorder: Recorder) -> Iterator[GitServer]:
    with GitServer(
        tmp_path_factory.mktemp("repos"), authorize=recorder.authorize, on_push=recorder.on_push
    ) as running:
        yield running


@pytest.fixture
def rec(recorder: Recorder) -> Recorder:
    recorder.pushes.clear()
    recorder.refused.clear()
    recorder.asked.clear()
    return recorder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def commit_file(work: Path, home: Path, name: str, text: str, message: str) -> str:
    (work / name).parent.mkdir(parents=True, exist_ok=True)
    (work / name).write_text(text)
    git("add", name, cwd=work, home=home)
    git("commit", "-q", "-m", message, cwd=work, home=home)
    return git("rev-parse", "HEAD", cwd=work, home=home).stdout.strip()


def test_url_is_loopback_with_a_real_port(server: GitServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert server.port > 0


def test_clone_the_provider_view_sees_the_readme(server: GitServer, tmp_path: Path, home: Path) -> None:
    server.create_repository("alice/clone-me", readme="# clone-me\n")
    git("clone", "-q", server.clone_url("alice/clone-me"), "work", cwd=tmp_path, home=home)
    assert (tmp_path / "work" / "README.md").read_text() == "# clone-me\n"
    assert git("branch", "--show-current", cwd=tmp_path / "work", home=home).stdout.strip() == "main"


def test_push_through_the_provider_view_calls_on_push_once(
    server: GitServer, rec: Recorder, tmp_path: Path, home: Path
) -> None:
    server.create_repository("alice/pushed", readme="hello\n")
    work = tmp_path / "work"
    git("clone", "-q", server.clone_url("alice/pushed"), str(work), cwd=tmp_path, home=home)
    sha = commit_file(work, home, "src/app.py", "print('hi')\n", "Add app")
    git("push", "-q", "origin", "main", cwd=work, home=home)
    assert rec.pushes == [("alice/pushed", "main", sha)]
    assert server.head("alice/pushed", "main") == sha
    assert server.list_files("alice/pushed", "main") == ["README.md", "src/app.py"]
    assert server.read_file("alice/pushed", "main", "src/app.py") == b"print('hi')\n"
    history = server.log("alice/pushed", "main")
    assert [c.subject for c in history] == ["Add app", "Initial commit"]
    assert history[0].parents == (history[1].sha,)
    assert history[0].author == "Tester <tester@example.com>"


def test_push_through_the_proxy_view_reaches_the_same_repository(
    server: GitServer, rec: Recorder, tmp_path: Path, home: Path
) -> None:
    server.create_repository("bob/models", readme="placeholder\n")
    url = server.proxy_url(ACCOUNT, REGION, "conn-1234", "bob/models")
    assert url == f"{server.url}/git-http/{ACCOUNT}/{REGION}/conn-1234/bob/models.git"
    work = tmp_path / "work"
    git("clone", "-q", url, str(work), cwd=tmp_path, home=home)
    git("checkout", "-q", "-b", "feature", cwd=work, home=home)
    sha = commit_file(work, home, "a.txt", "a\n", "On a branch")
    git("push", "-q", "origin", "feature", cwd=work, home=home)
    assert rec.asked and set(rec.asked) == {"conn-1234"}
    assert rec.pushes == [("bob/models", "feature", sha)]
    assert server.head("bob/models", "feature") == sha
    assert server.head("bob/models", "main") != sha


def test_a_refused_connection_gets_403_with_the_reason(
    server: GitServer, rec: Recorder, tmp_path: Path, home: Path
) -> None:
    server.create_repository("bob/locked", readme="x\n")
    rec.refused["conn-pending"] = "Connection conn-pending is in PENDING state; complete the handshake"
    url = server.proxy_url(ACCOUNT, REGION, "conn-pending", "bob/locked")
    result = git("clone", "-q", url, "work", cwd=tmp_path, home=home, check=False)
    assert result.returncode != 0
    assert "403" in result.stderr
    assert "PENDING state" in result.stderr
    assert not (tmp_path / "work").exists()
    # The provider view never asks the connection.
    git("clone", "-q", server.clone_url("bob/locked"), "direct", cwd=tmp_path, home=home)


def test_a_push_refused_by_the_connection_changes_nothing(
    server: GitServer, rec: Recorder, tmp_path: Path, home: Path
) -> None:
    server.create_repository("bob/readonly", readme="x\n")
    before = server.head("bob/readonly", "main")
    work = tmp_path / "work"
    git("clone", "-q", server.clone_url("bob/readonly"), str(work), cwd=tmp_path, home=home)
    commit_file(work, home, "b.txt", "b\n", "Try")
    rec.refused["conn-x"] = "no"
    proxy = server.proxy_url(ACCOUNT, REGION, "conn-x", "bob/readonly")
    result = git("push", proxy, "main", cwd=work, home=home, check=False)
    assert result.returncode != 0
    assert server.head("bob/readonly", "main") == before
    assert rec.pushes == []


def test_empty_repository_gets_its_first_branch_by_push(
    server: GitServer, rec: Recorder, tmp_path: Path, home: Path
) -> None:
    server.create_repository("carol/empty")
    assert server.head("carol/empty", "main") is None
    assert server.list_files("carol/empty", "main") == []
    assert server.log("carol/empty", "main") == []
    work = tmp_path / "work"
    result = git("clone", server.clone_url("carol/empty"), str(work), cwd=tmp_path, home=home)
    assert "empty repository" in result.stderr
    git("checkout", "-q", "-b", "main", cwd=work, home=home)
    sha = commit_file(work, home, "f.txt", "f\n", "First")
    git("push", "-q", "origin", "main", cwd=work, home=home)
    assert rec.pushes == [("carol/empty", "main", sha)]


def test_one_push_of_two_branches_reports_each_once(
    server: GitServer, rec: Recorder, tmp_path: Path, home: Path
) -> None:
    server.create_repository("carol/two", readme="x\n")
    work = tmp_path / "work"
    git("clone", "-q", server.clone_url("carol/two"), str(work), cwd=tmp_path, home=home)
    main_sha = commit_file(work, home, "m.txt", "m\n", "Main work")
    git("branch", "dev", "HEAD~1", cwd=work, home=home)
    git("checkout", "-q", "dev", cwd=work, home=home)
    dev_sha = commit_file(work, home, "d.txt", "d\n", "Dev work")
    git("push", "-q", "origin", "main", "dev", cwd=work, home=home)
    assert sorted(rec.pushes) == [("carol/two", "dev", dev_sha), ("carol/two", "main", main_sha)]
    rec.pushes.clear()
    git("push", "-q", "origin", "main", "dev", cwd=work, home=home)  # nothing new: no notification
    assert rec.pushes == []


def test_gitlab_style_subgroups(server: GitServer, rec: Recorder, tmp_path: Path, home: Path) -> None:
    server.create_repository("group/sub/deep-repo", readme="deep\n", branch="trunk")
    url = server.proxy_url(ACCOUNT, REGION, "conn-g", "group/sub/deep-repo")
    work = tmp_path / "work"
    git("clone", "-q", url, str(work), cwd=tmp_path, home=home)
    assert git("branch", "--show-current", cwd=work, home=home).stdout.strip() == "trunk"
    sha = commit_file(work, home, "x.txt", "x\n", "Deep")
    git("push", "-q", "origin", "trunk", cwd=work, home=home)
    assert rec.pushes == [("group/sub/deep-repo", "trunk", sha)]
    assert "group/sub/deep-repo" in server.repositories()


def test_a_missing_repository_is_404(server: GitServer, tmp_path: Path, home: Path) -> None:
    result = git("clone", "-q", server.clone_url("nobody/nothing"), "w", cwd=tmp_path, home=home, check=False)
    assert result.returncode != 0
    assert "not found" in result.stderr.lower()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.url}/not-a-git-path", timeout=5)
    assert info.value.code == 404


def test_pre_receive_hook_rejection_reaches_the_client(server: GitServer, tmp_path: Path, home: Path) -> None:
    repo = server.create_repository("dave/guarded", readme="x\n")
    hook = repo / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = server.head("dave/guarded", "main")
    work = tmp_path / "work"
    git("clone", "-q", server.clone_url("dave/guarded"), str(work), cwd=tmp_path, home=home)
    commit_file(work, home, "y.txt", "y\n", "Blocked")
    result = git("push", "origin", "main", cwd=work, home=home, check=False)
    assert result.returncode != 0
    assert "branch main is protected" in result.stderr
    assert server.head("dave/guarded", "main") == before


def test_on_push_failure_does_not_fail_the_push(tmp_path: Path, home: Path) -> None:
    def boom(full_name: str, branch: str, sha: str) -> None:
        raise RuntimeError("observer broke")

    with GitServer(tmp_path / "repos", on_push=boom) as srv:
        srv.create_repository("erin/r", readme="r\n")
        work = tmp_path / "work"
        git("clone", "-q", srv.clone_url("erin/r"), str(work), cwd=tmp_path, home=home)
        sha = commit_file(work, home, "z.txt", "z\n", "Z")
        git("push", "-q", "origin", "main", cwd=work, home=home)
        assert srv.head("erin/r", "main") == sha
    with pytest.raises(RuntimeError, match="not started"):
        _ = srv.url


@pytest.mark.parametrize(
    ("case", "name"),
    [
        ("no owner", "repo"),
        ("parent segment", "owner/../repo"),
        ("hidden segment", "owner/.hidden"),
        ("space", "owner/my repo"),
        ("empty segment", "owner//repo"),
    ],
)
def test_bad_repository_names_are_refused(case: str, name: str) -> None:
    with pytest.raises(ValueError, match="full_name"):
        validate_full_name(name)


def test_create_repository_twice_and_bad_branch(server: GitServer) -> None:
    server.create_repository("frank/once")
    with pytest.raises(RepositoryExists, match="already exists"):
        server.create_repository("frank/once")
    with pytest.raises(ValueError, match="branch"):
        server.create_repository("frank/other", branch="bad..name")


def test_non_loopback_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        GitServer(tmp_path, host="0.0.0.0")
