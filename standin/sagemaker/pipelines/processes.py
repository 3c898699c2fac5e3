"""A job's process: each job runs in a process of its own, as in its own container.

A job whose command is the stand-in's interpreter running a `.py` script (what SageMaker's framework
containers run: `python3 <script> <arguments>`) is forked from a job server: one interpreter per stand-in
process that has already imported the libraries those containers hold (`PRELOADED`: pandas, scikit-learn,
XGBoost). The forked child runs the script as `__main__` in a session of its own, with the job's arguments,
environment, working directory, no input and the job's log as its output, as `python script.py` would, without
paying those imports again (seconds per job on a small machine). What differs from a fresh interpreter:
settings read only when an interpreter or a library starts (`PYTHONHASHSEED`, `OMP_NUM_THREADS` of a library
already imported) keep the server's values. Any other command runs with `subprocess`.

The server is this file run as a script (`--serve`), so it imports nothing of the stand-in; it reads one JSON
request a line on stdin, answers `{"id", "pid"}` when it forked and `{"id", "exit"}` when the child ended
(it wakes on SIGCHLD, it does not poll), and ends when its stdin closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

PRELOADED = ("numpy", "pandas", "sklearn", "xgboost")


class JobTimeout(Exception):
    """The job's process ran past its time and was stopped."""


class _Server:
    """The stand-in's side of the job server: sends requests, hands each answer to the job that waits."""

    def __init__(self, python: str) -> None:
        self.process = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self.lock = threading.Lock()
        self.answers: dict[int, dict[str, Any]] = {}
        self.changed = threading.Condition()
        self.next_id = 0
        threading.Thread(target=self._read, name="job-server-answers", daemon=True).start()

    def alive(self) -> bool:
        return self.process.poll() is None

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            answer = json.loads(line)
            with self.changed:
                self.answers.setdefault(answer["id"], {}).update(answer)
                self.changed.notify_all()
        with self.changed:  # the server is gone: every waiting job is told
            self.answers.setdefault(-1, {})["gone"] = True
            self.changed.notify_all()

    def _wait(self, job: int, key: str, timeout: float | None) -> Any:
        with self.changed:
            self.changed.wait_for(lambda: key in self.answers.get(job, {}) or -1 in self.answers, timeout)
            return self.answers.get(job, {}).get(key)

    def run(
        self, script: str, args: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float
    ) -> int:
        with self.lock:
            self.next_id += 1
            job = self.next_id
            request = {
                "id": job,
                "script": script,
                "args": args,
                "cwd": str(cwd),
                "env": env,
                "log": str(log),
            }
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        pid = self._wait(job, "pid", None)
        if pid is None:
            raise OSError("the job server ended")
        code = self._wait(job, "exit", timeout)
        if code is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # the job and what it started
            self._wait(job, "exit", None)
            raise JobTimeout()
        with self.changed:
            self.answers.pop(job, None)
        return int(code)


_server: _Server | None = None
_server_lock = threading.Lock()


def _job_server(python: str) -> _Server:
    global _server
    with _server_lock:
        if _server is None or not _server.alive():
            _server = _Server(python)
        return _server


def forks_script(command: list[str], python: str, cwd: Path) -> bool:
    """Whether `command` is `python <script>.py ...` with the stand-in's interpreter, the script (absolute or
    in `cwd`) a file: such a job is forked from the job server, not started."""
    return (
        len(command) >= 2
        and command[0] == python
        and command[1].endswith(".py")
        and (cwd / command[1]).is_file()
    )


def run(
    command: list[str], cwd: Path, env: dict[str, str], log_path: Path, timeout: float, python: str
) -> int:
    """Run `command` to its end with its output appended to `log_path`; its exit code (negative: killed by
    that signal). JobTimeout after `timeout` seconds (the process is killed)."""
    if forks_script(command, python, cwd):
        try:
            return _job_server(python).run(command[1], command[2:], cwd, env, log_path, timeout)
        except OSError:
            pass  # no job server: start the interpreter instead
    with open(log_path, "ab") as log:
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as error:
            raise JobTimeout() from error
    return done.returncode


# --- the job server (this file run as a script) ----------------------------------------------------------


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become `python script args` in the job's folder, environment and log."""
    os.setsid()
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    sys.stdin = open(0)  # noqa: SIM115 - the process's own streams
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    script = request["script"]
    sys.argv = [script, *request["args"]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # as `python script.py` puts its folder first
    code: Any = 0
    try:
        import runpy

        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
    except BaseException:  # noqa: BLE001 - as the interpreter does: the traceback, then exit status 1
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)  # as Python prints a SystemExit message
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    del sys.path[0]  # this file's folder: its modules are not the libraries' to find
    for name in PRELOADED:
        with contextlib.suppress(ImportError):
            __import__(name)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    jobs: dict[int, int] = {}  # pid → request id
    stdin = sys.stdin.fileno()
    pending = b""
    out = sys.stdout

    def answer(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    while True:
        ready, _, _ = select.select([stdin, wake_r], [], [])
        if wake_r in ready:
            while True:
                try:
                    if not os.read(wake_r, 512):
                        break
                except BlockingIOError:
                    break
            while jobs:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                if pid in jobs:
                    answer({"id": jobs.pop(pid), "exit": os.waitstatus_to_exitcode(status)})
        if stdin in ready:
            data = os.read(stdin, 65536)
            if not data:
                return  # the stand-in is gone
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                jobs[pid] = request["id"]
                answer({"id": request["id"], "pid": pid})


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    serve()
