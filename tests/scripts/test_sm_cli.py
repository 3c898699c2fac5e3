"""`sm-mlops` as a user runs it: exit codes, `--output json`, messages that name the field and the fix."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from scripts.cli import main


def sm(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(["--output", "json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def test_bootstrap_dry_run_lists_and_creates_nothing_then_runs_twice(
    standin_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows, _ = sm(capsys, "bootstrap", "--dry-run")
    assert code == 0
    assert [r["action"].split(" with ")[0] for r in rows] == ["would create"] * 8 + ["would enable"]
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert sm(capsys, "bootstrap")[0] == 0
    code, rows, _ = sm(capsys, "bootstrap")
    assert code == 0
    assert [r["action"] for r in rows] == ["exists, policies as AWS gives them"] * 8 + ["already enabled"]
    code, rows, _ = sm(capsys, "bootstrap", "--role-family", "projects", "--dry-run")
    assert rows[0]["role"] == "AmazonSageMakerProjectsLaunchRole"
    assert rows[0]["action"] == (
        "would create policy AmazonSageMakerAdmin-ProjectsServiceRolePolicy; "
        "would create with AmazonSageMakerAdmin-ProjectsServiceRolePolicy"
    )


def test_connection_check_says_what_to_do_until_the_handshake(
    standin: Any, standin_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, created, _ = sm(capsys, "connection", "create", "--name", "github")
    assert code == 0 and created["action"] == "created"
    assert sm(capsys, "connection", "create", "--name", "github")[1]["arn"] == created["arn"]
    code, _, err = sm(capsys, "connection", "check", "--connection-arn", created["arn"])
    assert code == 1 and "PENDING" in err and "handshake" in err and "--connection-arn" in err
    standin.admin.authorize_connection(created["arn"])
    code, result, _ = sm(capsys, "connection", "check", "--connection-arn", created["arn"])
    assert code == 0 and result["status"] == "AVAILABLE"


@pytest.mark.parametrize(
    ("case", "args", "exit_code", "words"),
    [
        (
            "not a connection arn",
            ["connection", "check", "--connection-arn", "arn:aws:s3:::bucket"],
            2,
            ["--connection-arn"],
        ),
        ("unknown project", ["project", "status", "nope"], 3, ["ProjectName", "does not exist"]),
        ("approve in unknown project", ["model", "approve", "nope"], 3, ["nope"]),
        ("promote unknown project", ["deploy", "promote", "nope"], 3, ["nope"]),
        ("register before any Studio role", ["register", "--dry-run"], 3, ["--studio-role-arn", "Fix:"]),
        (
            "bad key=value",
            ["project", "update", "abalone", "--param", "novalue"],
            2,
            ["--param", "KEY=VALUE"],
        ),
    ],
)
def test_errors_exit_with_meaning_and_name_the_field(
    standin_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    case: str,
    args: list[str],
    exit_code: int,
    words: list[str],
) -> None:
    code, _, err = sm(capsys, *args)
    assert code == exit_code, err
    for word in words:
        assert word in err


def test_no_region_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, _, err = sm(capsys, "project", "status", "abalone")
    assert code == 2 and "AWS_REGION" in err
