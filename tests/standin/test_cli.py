"""The AWS CLI (a real client) against the stand-in, and ``python -m standin`` in the foreground."""

import json
import os
import subprocess
import sys
from pathlib import Path

AWS = str(Path(sys.executable).parent / "aws")


def _aws(env, *args):
    done = subprocess.run(
        [AWS, *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout or "{}")


def _clean_env(extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GIT_"))}
    env.update(extra)
    env["AWS_CONFIG_FILE"] = str(tmp_path / "config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "credentials")
    return env


def test_aws_cli_talks_to_the_stand_in(standin, tmp_path):
    env = _clean_env(standin.env, tmp_path)
    _aws(env, "s3api", "create-bucket", "--bucket", "cli-bucket")
    assert [b["Name"] for b in _aws(env, "s3api", "list-buckets")["Buckets"]] == ["cli-bucket"]
    arn = _aws(
        env,
        "codestar-connections",
        "create-connection",
        "--provider-type",
        "GitHub",
        "--connection-name",
        "cli",
    )["ConnectionArn"]
    got = _aws(env, "codestar-connections", "get-connection", "--connection-arn", arn)
    assert got["Connection"]["ConnectionStatus"] == "PENDING"
    assert _aws(env, "sts", "get-caller-identity")["Account"] == standin.account_id


def test_python_m_standin_prints_exports_then_serves(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "standin", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env({}, tmp_path),
    )
    try:
        exports = {}
        for line in process.stdout:
            if line.startswith("#"):
                break
            assert line.startswith("export "), line
            name, _, value = line[len("export ") :].strip().partition("=")
            exports[name] = value.strip("'")
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert os.path.isfile(exports["AWS_CA_BUNDLE"])
        env = _clean_env(exports, tmp_path)
        _aws(env, "s3api", "create-bucket", "--bucket", "from-another-shell")
        assert [b["Name"] for b in _aws(env, "s3api", "list-buckets")["Buckets"]] == ["from-another-shell"]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode == 0
    assert not os.path.exists(exports["AWS_CA_BUNDLE"])


def test_python_m_standin_refuses_a_bad_port():
    done = subprocess.run(
        [sys.executable, "-m", "standin", "--port", "70000"], capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "--port 70000" in done.stderr
