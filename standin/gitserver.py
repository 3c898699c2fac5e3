"""The stand-in's "GitHub": a smart-HTTP Git server on loopback, backed by git's own `git http-backend`.

Bare repositories live under one root folder as `{root}/{owner}/{repo}.git` (GitLab-style subgroups nest:
`{root}/group/sub/repo.git`). Each repository is reachable through two URL views:

- `{url}/{owner}/{repo}.git`: the provider's own view (what a data scientist clones);
- `{url}/git-http/{account}/{region}/{connection-id}/{owner}/{repo}.git`: the CodeStar/CodeConnections
  git proxy view, which asks `authorize(connection_id)` first, so a connection that is not AVAILABLE is
  refused with 403 and the callback's reason.

Every request runs `git http-backend` as a CGI process with a clean environment (no user or system git
config), so the server behaves the same on every machine. Pushes are enabled (`http.receivepack`), and
`on_push` is called once per created or moved branch after each successful push, before the push's HTTP
response is sent (keep it quick, or hand the work to a thread).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import get_input_stream

log = logging.getLogger(__name__)

Authorize = Callable[[str], "str | None"]
OnPush = Callable[[str, str, str], None]
StartResponse = Callable[..., Any]

ZERO_SHA = "0" * 40
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
# The paths the smart (and dumb) HTTP protocol requests below a repository.
_SERVICE = r"(?P<rest>/(?:info/refs|git-upload-pack|git-receive-pack|HEAD|objects/.+))"
_PROXY_PATH = re.compile(
    r"^/git-http/(?P<account>[^/]+)/(?P<region>[^/]+)/(?P<connection>[^/]+)/(?P<repo>.+?)(?:\.git)?"
    + _SERVICE
    + "$"
)
_PROVIDER_PATH = re.compile(r"^/(?P<repo>.+?)(?:\.git)?" + _SERVICE + "$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Identity of the commit that create_repository(readme=...) makes, like the provider's "Initial commit".
_INIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Git Stand-in",
    "GIT_AUTHOR_EMAIL": "git-standin@noreply.local",
    "GIT_COMMITTER_NAME": "Git Stand-in",
    "GIT_COMMITTER_EMAIL": "git-standin@noreply.local",
}


class RepositoryExists(FileExistsError):
    """create_repository was asked for a repository that is already there."""


@dataclass(frozen=True)
class Commit:
    """One commit of a branch's history, as `GitServer.log` returns it (newest first)."""

    sha: str
    author: str
    subject: str
    message: str
    parents: tuple[str, ...]


def validate_full_name(full_name: str) -> str:
    """Check an `owner/repo` (or `group/sub/repo`) name and return it without a trailing `.git`."""
    name = full_name.removesuffix(".git")
    segments = name.split("/")
    if len(segments) < 2 or not all(_SEGMENT.match(s) and s not in {".", ".."} for s in segments):
        raise ValueError(
            f"full_name {full_name!r} is not a repository name: expected 'owner/repo' (or 'group/sub/repo'), "
            "each part made of letters, digits, '.', '_' or '-' and not starting with '.' or '-'"
        )
    return name


def _clean_git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for git subprocesses that ignores the user's and the system's git config."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C",
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
    if extra:
        env.update(extra)
    return env


class _QuietHandler(WSGIRequestHandler):
    """Log requests through `logging` at debug level instead of printing every one to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, self.path, code)

    def log_error(self, format: str, *args: Any) -> None:  # the base class's signature
        log.debug("git server: " + format, *args)


class GitServer:
    """A smart-HTTP Git server on 127.0.0.1, serving the bare repositories under `root`."""

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        authorize: Authorize | None = None,
        on_push: OnPush | None = None,
    ) -> None:
        if host not in _LOOPBACK_HOSTS and not host.startswith("127."):
            raise ValueError(
                f"host {host!r} is not a loopback address: the Git stand-in binds to 127.0.0.1 only"
            )
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port
        self.authorize = authorize
        self.on_push = on_push
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._git = shutil.which("git") or "git"
        self._backend = str(Path(self._run_git(["--exec-path"]).strip()) / "git-http-backend")
        # An empty $HOME for the CGI processes (git may look there even with GIT_CONFIG_GLOBAL set); its name
        # starts with '.', which no repository name may, so it never clashes with a repository.
        self._home = self.root / ".home"
        self._home.mkdir(exist_ok=True)

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> GitServer:
        """Start serving in a background thread; `url` is valid afterwards."""
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, self.port, self.wsgi_app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="git-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; the repositories stay on disk."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> GitServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:PORT` (the server must be started)."""
        if self._server is None:
            raise RuntimeError("the Git server is not started: call start() or use it as a context manager")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def clone_url(self, full_name: str) -> str:
        """The provider view's URL of a repository, `{url}/{owner}/{repo}.git`."""
        return f"{self.url}/{validate_full_name(full_name)}.git"

    def proxy_url(self, account: str, region: str, connection_id: str, full_name: str) -> str:
        """The connection proxy view's URL of a repository (the path AWS's git-http proxy uses)."""
        name = validate_full_name(full_name)
        return f"{self.url}/git-http/{account}/{region}/{connection_id}/{name}.git"

    # -- repositories ----------------------------------------------------------------------------------------

    def path(self, full_name: str) -> Path:
        """Folder of the bare repository (it may not exist yet)."""
        return self.root / f"{validate_full_name(full_name)}.git"

    def exists(self, full_name: str) -> bool:
        return (self.path(full_name) / "HEAD").is_file()

    def repositories(self) -> list[str]:
        """Full names of every repository, sorted."""
        names = [p.parent.relative_to(self.root).as_posix() for p in self.root.rglob("*.git/HEAD")]
        return sorted(name.removesuffix(".git") for name in names)

    def create_repository(self, full_name: str, readme: str | None = None, branch: str = "main") -> Path:
        """Create a bare repository with default branch `branch` and, if `readme`, one README.md commit."""
        name = validate_full_name(full_name)
        _check_branch(branch)
        target = self.path(name)
        if self.exists(name):
            raise RepositoryExists(f"repository {name!r} already exists at {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        self._run_git(["init", "--quiet", "--bare", f"--initial-branch={branch}", str(target)])
        if readme is not None:
            blob = self._run_git(["hash-object", "-w", "--stdin"], repo=target, stdin=readme.encode()).strip()
            tree = self._run_git(
                ["mktree"], repo=target, stdin=f"100644 blob {blob}\tREADME.md\n".encode()
            ).strip()
            commit = self._run_git(
                ["commit-tree", tree, "-m", "Initial commit"], repo=target, env=_INIT_IDENTITY
            ).strip()
            self._run_git(["update-ref", f"refs/heads/{branch}", commit], repo=target)
        return target

    def head(self, full_name: str, branch: str) -> str | None:
        """The commit a branch points at, or None when the branch (or the repository) does not exist."""
        if not self.exists(full_name):
            return None
        out = self._run_git(
            ["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"],
            repo=self.path(full_name),
            check=False,
        )
        return out.strip() or None

    def list_files(self, full_name: str, branch: str) -> list[str]:
        """Paths of every file on a branch's tip, sorted; empty when the branch does not exist."""
        if self.head(full_name, branch) is None:
            return []
        out = self._run_git(
            ["ls-tree", "-r", "-z", "--name-only", f"refs/heads/{branch}"], repo=self.path(full_name)
        )
        return sorted(p for p in out.split("\0") if p)

    def read_file(self, full_name: str, branch: str, file_path: str) -> bytes:
        """Bytes of one file on a branch's tip (KeyError when the branch or the file is missing)."""
        if self.head(full_name, branch) is None:
            raise KeyError(f"branch {branch!r} of {full_name!r} does not exist")
        proc = subprocess.run(
            [self._git, "cat-file", "blob", f"refs/heads/{branch}:{file_path}"],
            cwd=self.path(full_name),
            env=_clean_git_env(),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise KeyError(f"{file_path!r} is not on branch {branch!r} of {full_name!r}")
        return proc.stdout

    def log(self, full_name: str, branch: str) -> list[Commit]:
        """A branch's history, newest first; empty when the branch does not exist."""
        if self.head(full_name, branch) is None:
            return []
        out = self._run_git(
            ["log", "-z", "--format=%H%x1f%an <%ae>%x1f%P%x1f%s%x1f%B", f"refs/heads/{branch}"],
            repo=self.path(full_name),
        )
        commits = []
        for record in out.split("\0"):
            if not record.strip():
                continue
            sha, author, parents, subject, message = record.lstrip("\n").split("\x1f", 4)
            commits.append(Commit(sha, author, subject, message.rstrip("\n"), tuple(parents.split())))
        return commits

    # -- HTTP ------------------------------------------------------------------------------------------------

    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application: route a request to a repository and hand it to `git http-backend`."""
        path = environ.get("PATH_INFO", "") or "/"
        connection_id = None
        match = _PROXY_PATH.match(path)
        if match:
            connection_id = match.group("connection")
        else:
            match = _PROVIDER_PATH.match(path)
        if not match:
            return _plain(start_response, "404 Not Found", f"not a Git smart-HTTP path: {path}\n")
        try:
            name = validate_full_name(match.group("repo"))
        except ValueError as exc:
            return _plain(start_response, "404 Not Found", f"{exc}\n")
        if connection_id is not None and self.authorize is not None:
            reason = self.authorize(connection_id)
            if reason is not None:
                return _plain(start_response, "403 Forbidden", f"{reason}\n")
        if not self.exists(name):
            return _plain(start_response, "404 Not Found", f"Repository {name} not found.\n")
        rest = match.group("rest")
        pushing = rest == "/git-receive-pack"
        body = get_input_stream(environ).read()
        if not pushing:
            return self._cgi(environ, start_response, name, rest, body)
        with self._lock(name):
            before = self._branches(name)
            result = self._cgi(environ, start_response, name, rest, body)
            after = self._branches(name)
        self._notify(name, before, after)
        return result

    def _cgi(
        self, environ: dict[str, Any], start_response: StartResponse, name: str, rest: str, body: bytes
    ) -> list[bytes]:
        cgi_env = _clean_git_env(
            {
                "HOME": str(self._home),
                "GIT_PROJECT_ROOT": str(self.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                # Enable pushes without HTTP authentication (the proxy view is authorised per connection).
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.receivepack",
                "GIT_CONFIG_VALUE_0": "true",
                "REQUEST_METHOD": environ.get("REQUEST_METHOD", "GET"),
                "PATH_INFO": f"/{name}.git{rest}",
                "QUERY_STRING": environ.get("QUERY_STRING", ""),
                "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": "standin",
                "REMOTE_ADDR": environ.get("REMOTE_ADDR", "127.0.0.1"),
                "SERVER_PROTOCOL": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "GATEWAY_INTERFACE": "CGI/1.1",
            }
        )
        for key in ("HTTP_CONTENT_ENCODING", "HTTP_GIT_PROTOCOL"):
            if key in environ:
                cgi_env[key] = environ[key]
        proc = subprocess.run([self._backend], input=body, env=cgi_env, capture_output=True, check=False)
        if proc.stderr:
            log.debug("git http-backend %s: %s", name, proc.stderr.decode(errors="replace").strip())
        head, sep, payload = proc.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = proc.stdout.partition(b"\n\n")
        if not sep:
            message = proc.stderr.decode(errors="replace") or "git http-backend gave no response"
            return _plain(start_response, "500 Internal Server Error", message)
        status = "200 OK"
        headers = []
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = value.strip()
            elif key:
                headers.append((key.strip(), value.strip()))
        headers.append(("Content-Length", str(len(payload))))
        start_response(status, headers)
        return [payload]

    # -- pushes ----------------------------------------------------------------------------------------------

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())

    def _branches(self, name: str) -> dict[str, str]:
        out = self._run_git(
            ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"], repo=self.path(name)
        )
        refs = {}
        for line in out.splitlines():
            sha, _, ref = line.partition(" ")
            refs[ref.removeprefix("refs/heads/")] = sha
        return refs

    def _notify(self, name: str, before: dict[str, str], after: dict[str, str]) -> None:
        """Call on_push for every branch a push created or moved (deleted branches are not reported)."""
        if self.on_push is None:
            return
        for branch, sha in sorted(after.items()):
            if before.get(branch) == sha:
                continue
            try:
                self.on_push(name, branch, sha)
            except Exception:  # a failing observer must not turn a stored push into an error
                log.exception("on_push(%s, %s, %s) failed", name, branch, sha)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _run_git(
        self,
        args: list[str],
        repo: Path | None = None,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> str:
        command = [self._git] if repo is None else [self._git, f"--git-dir={repo}"]
        proc = subprocess.run(
            command + args, input=stdin, env=_clean_git_env(env), capture_output=True, check=False
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode().strip()}"
            )
        return proc.stdout.decode()


def _check_branch(branch: str) -> None:
    if not branch or branch.startswith(("-", "/")) or ".." in branch or any(c in branch for c in " ~^:?*[\\"):
        raise ValueError(f"branch {branch!r} is not a valid Git branch name")


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    data = text.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    )
    return [data]
