"""A job's script runs in a process of its own forked from a server that has the containers' libraries loaded,
and behaves as `python script.py` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from standin.sagemaker.pipelines import processes

SCRIPT = """
import os, sys
print("loaded before the script:", "xgboost" in sys.modules)
print("args", sys.argv[1:], "cwd", os.getcwd(), "X", os.environ.get("X"), "HOME" in os.environ)
print("path0", sys.path[0])
print("to stderr", file=sys.stderr)
raise SystemExit(sys.argv[1] if sys.argv[1] != "ok" else 0)
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "code" / "job.py"
    path.parent.mkdir()
    path.write_text(SCRIPT)
    return path


def run(tmp_path: Path, command: list[str], timeout: float = 120) -> tuple[int, str]:
    log = tmp_path / "job.log"
    log.write_text("")
    code = processes.run(command, tmp_path, {"X": "1", "PATH": "/usr/bin:/bin"}, log, timeout, sys.executable)
    return code, log.read_text()


def test_a_script_job_is_forked_with_the_libraries_loaded_and_answers_as_python_would(tmp_path, script):
    assert processes.forks_script([sys.executable, str(script)], sys.executable, tmp_path)
    # a script named relative to the job's folder (script-mode training runs `python train.py` in its code)
    assert processes.forks_script([sys.executable, "job.py"], sys.executable, script.parent)
    assert not processes.forks_script([sys.executable, "job.py"], sys.executable, tmp_path)
    for argument, status in (("ok", 0), ("went wrong", 1)):
        code, output = run(tmp_path, [sys.executable, str(script), argument])
        plain = subprocess.run(
            [sys.executable, str(script), argument],
            cwd=tmp_path,
            env={"X": "1", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        assert code == plain.returncode == status
        assert output.replace("True", "False") == plain.stdout + plain.stderr
        assert "loaded before the script: True" in output  # forked, not a fresh interpreter


def test_a_job_past_its_time_is_killed(tmp_path):
    sleeper = tmp_path / "sleep.py"
    sleeper.write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(processes.JobTimeout):
        run(tmp_path, [sys.executable, str(sleeper)], timeout=1)


def test_another_command_runs_as_a_subprocess(tmp_path):
    assert not processes.forks_script(["bash", "-c", "exit 3"], sys.executable, tmp_path)
    assert run(tmp_path, ["bash", "-c", "echo hi; exit 3"]) == (3, "hi\n")
    with pytest.raises(processes.JobTimeout):
        run(tmp_path, ["sleep", "30"], timeout=0.5)


def test_a_script_named_relative_to_the_jobs_folder_is_forked_there(tmp_path, script):
    log = tmp_path / "job.log"
    log.write_text("")
    code = processes.run([sys.executable, "job.py", "ok"], script.parent, {}, log, 120, sys.executable)
    assert code == 0 and "loaded before the script: True" in log.read_text()
    assert f"cwd {script.parent}" in log.read_text()
