"""CodePipeline's Source action `CodeStarSourceConnection`: the branch head (or the pushed commit) on the
local Git server, archived without `.git` and zipped into the artifact store; the connection must be
AVAILABLE."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from standin.codepipeline.executions import ActionFailed, ActionRun, Execution, now

if TYPE_CHECKING:
    from standin.codepipeline.engine import PipelineRuntime

from standin.connections.state import git_authorize


def source_action(rt: PipelineRuntime, execution: Execution, run: ActionRun) -> None:
    config = run.action.get("configuration", {})
    for key in ("ConnectionArn", "FullRepositoryId", "BranchName"):
        if not config.get(key):
            raise ActionFailed(f"configuration.{key} is required", "ConfigurationError")
    connection_id = config["ConnectionArn"].rsplit("/", 1)[-1]

    refused = git_authorize(rt.standin.layer, connection_id)
    if refused:
        raise ActionFailed(refused, "PermissionError")
    git = rt.standin.git
    full_name, branch = config["FullRepositoryId"], config["BranchName"]
    if not git.exists(full_name):
        raise ActionFailed(f"Repository {full_name} not found on the provider", "ConfigurationError")
    sha = execution.source_revision if execution.trigger["triggerType"] in ("Webhook", "WebhookV2") else None
    sha = sha or git.head(full_name, branch)
    if not sha:
        raise ActionFailed(f"Branch {branch} not found in {full_name}", "ConfigurationError")
    folder = rt.action_dir(execution, run) / "source"
    folder.mkdir()
    archive = subprocess.run(
        ["git", "--git-dir", str(git.path(full_name)), "archive", "--format=tar", sha],
        capture_output=True,
        env=_git_env(rt.action_dir(execution, run)),
        check=False,
    )
    if archive.returncode != 0:
        raise ActionFailed(f"git archive of {full_name}@{sha} failed: {archive.stderr.decode()[-500:]}")

    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    commits = git.log(full_name, branch)
    message = next((c.message for c in commits if c.sha == sha), "")
    for output in run.action.get("outputArtifacts", []):
        rt.put_artifact(execution, run, output["name"], folder)
    run.external_id = sha
    run.summary = json.dumps({"ProviderType": "GitHub", "CommitMessage": message.strip()})
    run.output_variables = {
        "CommitId": sha,
        "BranchName": branch,
        "FullRepositoryName": full_name,
        "ConnectionArn": config["ConnectionArn"],
        "CommitMessage": message.strip(),
    }
    execution.revisions.append(
        {
            "name": run.outputs[0]["name"] if run.outputs else run.name,
            "revisionId": sha,
            "revisionSummary": run.summary,
            "created": now(),
        }
    )


def _git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
