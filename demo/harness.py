"""The harness the walkthrough runs in: the stand-in started in-process with its logs in files, a work folder,
and `Walkthrough`, which runs the real commands and git against it and reports each step."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from standin.testing import wait_for

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


class DemoFailed(Exception):
    """A step did not do what it should; the message says which part of the project is at fault."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass
class DemoResult:
    project: str
    project_id: str = ""
    steps: list[tuple[str, float]] = field(default_factory=list)
    table: list[dict[str, str]] = field(default_factory=list)
    created: dict[str, list[str]] = field(default_factory=dict)
    remaining: dict[str, list[str]] = field(default_factory=dict)


class Walkthrough:
    """Runs the steps with readable progress: one line per step and sub-step."""

    def __init__(self, standin: Any, workdir: Path, out: TextIO, timeout: float, project: str) -> None:
        self.standin = standin
        self.workdir = workdir
        self.out = out
        self.timeout = timeout
        self.result = DemoResult(project)
        self.current = ""
        home = workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GIT_"))}
        inherited.pop("HTTPS_PROXY", None)
        inherited.pop("https_proxy", None)
        self.env = {
            **inherited,
            **standin.env,
            "HOME": str(home),  # never the real user's ~/.gitconfig or ~/.aws
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }

    # -- output and timing ---------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def note(self, line: str) -> None:
        self.say(f"      {line}")

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.current = name
        number = len(self.result.steps)  # [ 0] is the stand-in's start
        self.say(f"[{number:>2}] {name}")
        began = time.perf_counter()
        try:
            yield
        except DemoFailed:
            raise
        except Exception as error:  # every failure becomes a clear step failure
            raise DemoFailed(name, f"{type(error).__name__}: {error}") from error
        seconds = time.perf_counter() - began
        self.result.steps.append((name, seconds))
        self.say(f"     ok ({seconds:.1f} s)")

    def fail(self, message: str) -> DemoFailed:
        return DemoFailed(self.current, message)

    # -- the real commands ---------------------------------------------------------------------------------

    def assume(self, role_arn: str, session: str) -> dict[str, str]:
        """The credentials of an `sts:AssumeRole` session of ``role_arn`` (what Studio gives a user of its
        execution role), as the standard credential chain reads them from the environment."""
        credentials = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }

    def sm(self, *args: str, identity: dict[str, str] | None = None) -> Any:
        """`sm-mlops --output json ARGS` with the stand-in's environment (and ``identity``'s credentials, else
        the admin's); progress lines become sub-steps."""
        command = [sys.executable, "-m", "scripts.cli", "--output", "json", *args]
        self.note("$ sm-mlops " + " ".join(args))
        done = subprocess.run(
            command,
            env={**self.env, **(identity or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        for line in done.stderr.splitlines():
            if line.strip():
                self.note("  " + line.strip())
        if done.returncode != 0:
            raise self.fail(
                f"`sm-mlops {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()[-2000:]}"
            )
        return json.loads(done.stdout) if done.stdout.strip() else None

    def git(self, *args: str, cwd: Path | None = None) -> str:
        command = ["git", "-c", "user.name=Data Scientist", "-c", "user.email=ds@example.com", *args]
        done = subprocess.run(command, env=self.env, cwd=cwd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise self.fail(f"`git {' '.join(args)}` exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def invoke_endpoint(
        self, endpoint: str, csv_rows: str, identity: dict[str, str] | None = None
    ) -> list[str]:
        """The AWS CLI's `sagemaker-runtime invoke-endpoint`, as a person calls it; the answer's values."""
        body, out = self.workdir / "request.csv", self.workdir / "answer.txt"
        body.write_text(csv_rows)
        aws = str(Path(sys.executable).with_name("aws"))
        command = [aws, "sagemaker-runtime", "invoke-endpoint", "--endpoint-name", endpoint]
        command += ["--content-type", "text/csv", "--body", f"fileb://{body}", str(out)]
        self.note(f"$ aws sagemaker-runtime invoke-endpoint --endpoint-name {endpoint} ...")
        env = {**self.env, **(identity or {})}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise self.fail(f"invoke-endpoint {endpoint} exited {done.returncode}: {done.stderr.strip()}")
        return out.read_text().replace(",", " ").split()

    def client(self, service: str) -> Any:
        return self.standin.client(service)

    def wait(self, what: str, check: Callable[[], T | None], missing: str, timeout: float | None = None) -> T:
        """Check `check` until it returns a value, again each time the stand-in's state changes (see
        `standin.testing.wait_for`); on timeout say what it waited for, how long, and which part did not do
        its work."""
        try:
            return wait_for(check, timeout or self.timeout, what)
        except AssertionError as error:
            raise self.fail(f"{error}: {missing}") from None

    def clone(self, url: str, repo: str) -> Path:
        """A fresh clone of ``repo`` in the work folder, as the data scientist makes one."""
        target = self.workdir / "clones" / f"{repo.replace('/', '__')}-{time.monotonic_ns()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.git("clone", "--quiet", url, str(target))
        return target


def _log_to(path: Path) -> logging.Handler:
    """The stand-in runs in this process: its log and moto's warnings go to a file, not between steps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return handler


@contextlib.contextmanager
def started(log_path: Path) -> Iterator[tuple[Any, Path]]:
    """The stand-in, started in this process, and a work folder; the stand-in's log goes to ``log_path``."""
    try:
        from standin.server import StandIn
    except ImportError as error:
        raise DemoFailed(
            "start the stand-in", f"the stand-in server is missing (standin/server.py): {error}"
        ) from error
    handler = _log_to(log_path)
    # What the stand-in's in-process Lambdas print (CloudWatch Logs on AWS) goes to a file, not between steps.
    stray = log_path.with_name("lambda-output.log").open("w")
    try:
        with (
            contextlib.redirect_stdout(stray),
            tempfile.TemporaryDirectory(prefix="sm-mlops-demo-") as workdir,
            StandIn() as standin,
        ):
            yield standin, Path(workdir)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        stray.close()


def dump_failed_builds(standin: Any, path: Path) -> Path | None:
    """Write the log of every failed CodeBuild build to `path` (the stand-in's state goes when it stops)."""
    try:
        codebuild, logs = standin.client("codebuild"), standin.client("logs")
        ids = codebuild.list_builds()["ids"]
        builds = codebuild.batch_get_builds(ids=ids)["builds"] if ids else []
        failed = [b for b in builds if b.get("buildStatus") not in {"SUCCEEDED", "IN_PROGRESS"}]
        if not failed:
            return None
        with path.open("w") as out:
            for build in failed:
                out.write(f"===== {build['id']} {build.get('buildStatus')}\n")
                where = build.get("logs", {})
                events = logs.get_log_events(
                    logGroupName=where["groupName"], logStreamName=where["streamName"]
                )
                out.writelines(e["message"].rstrip("\n") + "\n" for e in events["events"])
        return path
    except Exception:  # noqa: BLE001 - best effort, the step's own message stands
        return None
