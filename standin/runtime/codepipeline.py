"""CodePipeline executions for the pipelines moto's codepipeline backend stores.

An execution starts when a pipeline is created (as AWS does), on every push to a watched branch, and on
`start_pipeline_execution`. It walks the stages in order, the actions of a stage by `runOrder`, and runs:

- `Source/CodeStarSourceConnection`: the branch head on the local Git server, zipped into the artifact store;
- `CodeBuild` (Build or Test): the stand-in's `BuildRunner` with the input artifacts as primary and secondary
  sources (named by artifact name), output artifacts zipped back to S3;
- `Deploy/CloudFormation`: `CREATE_UPDATE`, `REPLACE_ON_FAILURE`, `DELETE_ONLY` through the stand-in's stacks;
- `Approval/Manual`: waits until `put_approval_result` answers with the current token.

Execution modes: SUPERSEDED (default; one execution per stage, a newer execution waiting to enter a stage
supersedes an older one waiting there), QUEUED (they wait in order) and PARALLEL (no locking).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import random
import string
import subprocess
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standin.runtime import context

log = logging.getLogger(__name__)
FAILED_STACK_STATES = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"}
STACK_TIMEOUT = 900.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ActionFailed(Exception):
    """The action failed; the message is what `get_pipeline_state` shows in `errorDetails`."""

    def __init__(self, message: str, code: str = "JobFailed"):
        super().__init__(message)
        self.message = message[:1500]
        self.code = code


class Superseded(Exception):
    pass


@dataclass
class ActionRun:
    execution_id: str
    stage: str
    action: dict[str, Any]
    action_execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    start: dt.datetime = field(default_factory=_now)
    updated: dt.datetime = field(default_factory=_now)
    summary: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    error: dict[str, str] | None = None
    token: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    output_variables: dict[str, str] = field(default_factory=dict)
    answered: threading.Event = field(default_factory=threading.Event)
    approval: dict[str, str] | None = None
    build: Any = None

    @property
    def name(self) -> str:
        return self.action["name"]

    def latest(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "actionExecutionId": self.action_execution_id,
            "status": self.status,
            "lastStatusChange": self.updated,
        }
        if self.summary:
            out["summary"] = self.summary
        if self.external_id:
            out["externalExecutionId"] = self.external_id
        if self.external_url:
            out["externalExecutionUrl"] = self.external_url
        if self.error:
            out["errorDetails"] = self.error
        if self.token and self.status == "InProgress":
            out["token"] = self.token
        return out

    def detail(self, pipeline: str, version: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.external_id or self.summary:
            result["executionResult"] = {
                k: v
                for k, v in {
                    "externalExecutionId": self.external_id,
                    "externalExecutionSummary": self.summary,
                    "externalExecutionUrl": self.external_url,
                }.items()
                if v
            }
        if self.error:
            result.setdefault("executionResult", {})["errorDetails"] = self.error
        return {
            "pipelineExecutionId": self.execution_id,
            "actionExecutionId": self.action_execution_id,
            "pipelineVersion": version,
            "stageName": self.stage,
            "actionName": self.name,
            "startTime": self.start,
            "lastUpdateTime": self.updated,
            "status": self.status,
            "input": {
                "actionTypeId": self.action.get("actionTypeId", {}),
                "configuration": self.action.get("configuration", {}),
                "resolvedConfiguration": self.action.get("configuration", {}),
                "roleArn": self.action.get("roleArn", ""),
                "region": self.action.get("region", ""),
                "inputArtifacts": self.inputs,
                "namespace": self.action.get("namespace", ""),
            },
            "output": {"outputArtifacts": self.outputs, **result, "outputVariables": self.output_variables},
        }


@dataclass
class Execution:
    pipeline: str
    version: int
    mode: str
    trigger: dict[str, str]
    execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    summary: str | None = None
    start: dt.datetime = field(default_factory=_now)
    updated: dt.datetime = field(default_factory=_now)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)
    actions: list[ActionRun] = field(default_factory=list)
    stage_status: dict[str, str] = field(default_factory=dict)
    stop_requested: str | None = None
    source_revision: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def to_api(self) -> dict[str, Any]:
        out = {
            "pipelineName": self.pipeline,
            "pipelineVersion": self.version,
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "artifactRevisions": self.revisions,
            "trigger": self.trigger,
            "executionMode": self.mode,
            "executionType": "STANDARD",
        }
        if self.summary:
            out["statusSummary"] = self.summary
        return out

    def summary_api(self) -> dict[str, Any]:
        out = {
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "startTime": self.start,
            "lastUpdateTime": self.updated,
            "sourceRevisions": [
                {
                    "actionName": r["name"],
                    "revisionId": r["revisionId"],
                    "revisionSummary": r.get("revisionSummary", ""),
                }
                for r in self.revisions
            ],
            "trigger": self.trigger,
            "executionMode": self.mode,
            "executionType": "STANDARD",
        }
        if self.summary:
            out["statusSummary"] = self.summary
        return out


class PipelineRuntime:
    """Executions of every pipeline of one account and region, and the stage locks between them."""

    def __init__(self, standin: Any, account_id: str, region: str):
        self.standin = standin
        self.account_id = account_id
        self.region = region
        self.executions: dict[str, list[Execution]] = {}
        self.cond = threading.Condition()
        # (pipeline, stage) → execution id inside it; (pipeline, stage) → ids waiting to enter, oldest first
        self.occupant: dict[tuple[str, str], str] = {}
        self.waiting: dict[tuple[str, str], list[str]] = {}
        base = getattr(standin, "state_dir", None)
        self.workdir = Path(base) / "codepipeline" if base else Path(tempfile.mkdtemp(prefix="standin-cp-"))
        self.workdir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------------------------------- lookups
    def backend(self, service: str) -> Any:
        from moto.backends import get_backend

        return get_backend(service)[self.account_id][self.region]  # type: ignore[call-overload]

    def declaration(self, name: str) -> dict[str, Any]:
        pipeline = self.backend("codepipeline").pipelines.get(name)
        if pipeline is None:
            raise KeyError(name)
        return pipeline.pipeline

    def client(self, service: str) -> Any:
        return context.client(self.standin, service, self.region)

    def find(self, pipeline: str, execution_id: str) -> Execution | None:
        return next((e for e in self.executions.get(pipeline, []) if e.execution_id == execution_id), None)

    # ------------------------------------------------------------------------------------------- start
    def start(self, name: str, trigger_type: str, detail: str = "", revision: str | None = None) -> Execution:
        declaration = self.declaration(name)
        execution = Execution(
            pipeline=name,
            version=int(declaration.get("version", 1)),
            mode=declaration.get("executionMode") or "SUPERSEDED",
            trigger={"triggerType": trigger_type, "triggerDetail": detail},
            source_revision=revision,
        )
        with self.cond:
            self.executions.setdefault(name, []).append(execution)
        threading.Thread(
            target=self._run, args=(execution, declaration), name=f"codepipeline-{name}", daemon=True
        ).start()
        return execution

    def _run(self, execution: Execution, declaration: dict[str, Any]) -> None:
        held: tuple[str, str] | None = None
        try:
            for stage in declaration.get("stages", []):
                key = (execution.pipeline, stage["name"])
                self._enter(execution, key, held)
                held = key
                if execution.stop_requested:
                    break
                execution.stage_status[stage["name"]] = "InProgress"
                ok = self._run_stage(execution, stage)
                execution.stage_status[stage["name"]] = "Succeeded" if ok else "Failed"
                if execution.stop_requested:
                    execution.stage_status[stage["name"]] = "Stopped"
                    break
                if not ok:
                    execution.status = "Failed"
                    break
            if execution.stop_requested:
                execution.status = "Stopped"
                execution.summary = execution.stop_requested
            elif execution.status == "InProgress":
                execution.status = "Succeeded"
        except Superseded:
            execution.status = "Superseded"
            execution.summary = "Superseded by a newer execution"
        except Exception as exc:  # the execution must end, and say why
            log.exception("pipeline %s execution %s", execution.pipeline, execution.execution_id)
            execution.status = "Failed"
            execution.summary = f"{type(exc).__name__}: {exc}"
        finally:
            with self.cond:
                if held and self.occupant.get(held) == execution.execution_id:
                    del self.occupant[held]
                for queue in self.waiting.values():
                    if execution.execution_id in queue:
                        queue.remove(execution.execution_id)
                self.cond.notify_all()
            execution.updated = _now()
            execution.done.set()

    def _enter(self, execution: Execution, key: tuple[str, str], held: tuple[str, str] | None) -> None:
        """Wait until the stage is free (not in PARALLEL mode), then move into it from the stage held."""
        with self.cond:
            if execution.mode == "PARALLEL":
                return
            me = execution.execution_id
            queue = self.waiting.setdefault(key, [])
            queue.append(me)
            while True:
                if execution.mode == "SUPERSEDED" and queue[-1] != me:
                    queue.remove(me)
                    raise Superseded()
                free = self.occupant.get(key) in (None, me)
                if free and (execution.mode != "QUEUED" or queue[0] == me):
                    break
                if execution.stop_requested:
                    queue.remove(me)
                    return
                self.cond.wait(0.5)
            queue.remove(me)
            self.occupant[key] = execution.execution_id
            if held and self.occupant.get(held) == execution.execution_id:
                del self.occupant[held]
            self.cond.notify_all()

    def _run_stage(self, execution: Execution, stage: dict[str, Any]) -> bool:
        actions = sorted(stage.get("actions", []), key=lambda a: int(a.get("runOrder", 1)))
        for order in sorted({int(a.get("runOrder", 1)) for a in actions}):
            group = [a for a in actions if int(a.get("runOrder", 1)) == order]
            runs = [ActionRun(execution.execution_id, stage["name"], action) for action in group]
            execution.actions.extend(runs)
            ok = True
            for run in runs:
                if execution.stop_requested:
                    run.status, run.summary = "Abandoned", execution.stop_requested
                    ok = False
                    continue
                ok = self._run_action(execution, run) and ok
            if not ok:
                return False
        return True

    def _run_action(self, execution: Execution, run: ActionRun) -> bool:
        type_id = run.action.get("actionTypeId", {})
        category, provider = type_id.get("category"), type_id.get("provider")
        handlers = {
            ("Source", "CodeStarSourceConnection"): self._source,
            ("Build", "CodeBuild"): self._codebuild,
            ("Test", "CodeBuild"): self._codebuild,
            ("Deploy", "CloudFormation"): self._cloudformation,
            ("Approval", "Manual"): self._approval,
        }
        handler = handlers.get((category, provider))
        try:
            if handler is None:
                raise ActionFailed(
                    f"The stand-in cannot run {category}/{provider} actions", "ConfigurationError"
                )
            handler(execution, run)
            run.status = "Succeeded"
        except ActionFailed as exc:
            run.status = "Failed"
            run.error = {"code": exc.code, "message": exc.message}
            execution.summary = f"{run.stage}.{run.name}: {exc.message}"[:2000]
        except Exception as exc:
            log.exception("action %s.%s", run.stage, run.name)
            run.status = "Failed"
            run.error = {"code": "JobFailed", "message": f"{type(exc).__name__}: {exc}"[:1500]}
            execution.summary = f"{run.stage}.{run.name}: {run.error['message']}"
        if execution.stop_requested and run.status != "Succeeded":
            run.status = "Abandoned"
        run.updated = execution.updated = _now()
        return run.status == "Succeeded"

    # ------------------------------------------------------------------------------------------- artifacts
    def _artifact_store(self, execution: Execution) -> str:
        store = self.declaration(execution.pipeline).get("artifactStore") or {}
        if store.get("type", "S3") != "S3" or not store.get("location"):
            raise ActionFailed("artifactStore: an S3 bucket location is required", "ConfigurationError")
        return store["location"]

    def _put_artifact(self, execution: Execution, run: ActionRun, name: str, folder: Path) -> None:
        bucket = self._artifact_store(execution)
        suffix = "".join(random.choices(string.ascii_letters + string.digits, k=7))
        key = f"{execution.pipeline[:20]}/{name[:20]}/{suffix}"
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=zip_folder(folder))
        execution.artifacts[name] = {"bucket": bucket, "key": key}
        run.outputs.append({"name": name, "s3location": {"bucket": bucket, "key": key}})

    def _get_artifact(self, execution: Execution, run: ActionRun, name: str, dest: Path) -> Path:
        location = execution.artifacts.get(name)
        if location is None:
            raise ActionFailed(
                f"Input artifact {name} was not produced by an earlier action", "ConfigurationError"
            )
        data = self.client("s3").get_object(Bucket=location["bucket"], Key=location["key"])["Body"].read()
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                archive.extract(info, dest)
                mode = info.external_attr >> 16
                if mode and not info.is_dir():
                    (dest / info.filename).chmod(mode & 0o777 or 0o644)
        run.inputs.append({"name": name, "s3location": dict(location)})
        return dest

    def _action_dir(self, execution: Execution, run: ActionRun) -> Path:
        folder = self.workdir / execution.execution_id / run.action_execution_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # ------------------------------------------------------------------------------------------- actions
    def _source(self, execution: Execution, run: ActionRun) -> None:
        config = run.action.get("configuration", {})
        for key in ("ConnectionArn", "FullRepositoryId", "BranchName"):
            if not config.get(key):
                raise ActionFailed(f"configuration.{key} is required", "ConfigurationError")
        connection_id = config["ConnectionArn"].rsplit("/", 1)[-1]
        from standin.connections.state import git_authorize

        refused = git_authorize(self.standin.layer, connection_id)
        if refused:
            raise ActionFailed(refused, "PermissionError")
        git = self.standin.git
        full_name, branch = config["FullRepositoryId"], config["BranchName"]
        if not git.exists(full_name):
            raise ActionFailed(f"Repository {full_name} not found on the provider", "ConfigurationError")
        sha = (
            execution.source_revision
            if execution.trigger["triggerType"] in ("Webhook", "WebhookV2")
            else None
        )
        sha = sha or git.head(full_name, branch)
        if not sha:
            raise ActionFailed(f"Branch {branch} not found in {full_name}", "ConfigurationError")
        folder = self._action_dir(execution, run) / "source"
        folder.mkdir()
        archive = subprocess.run(
            ["git", "--git-dir", str(git.path(full_name)), "archive", "--format=tar", sha],
            capture_output=True,
            env=_git_env(self._action_dir(execution, run)),
            check=False,
        )
        if archive.returncode != 0:
            raise ActionFailed(f"git archive of {full_name}@{sha} failed: {archive.stderr.decode()[-500:]}")
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, filter="data")
        commits = git.log(full_name, branch)
        message = next((c.message for c in commits if c.sha == sha), "")
        for output in run.action.get("outputArtifacts", []):
            self._put_artifact(execution, run, output["name"], folder)
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
                "created": _now(),
            }
        )

    def _codebuild(self, execution: Execution, run: ActionRun) -> None:
        from standin.codebuild import runner_for

        config = run.action.get("configuration", {})
        name = config.get("ProjectName")
        project = self.backend("codebuild").codebuild_projects.get(name or "")
        if project is None:
            raise ActionFailed(f"configuration.ProjectName: CodeBuild project {name!r} does not exist")
        inputs = [a["name"] for a in run.action.get("inputArtifacts", [])]
        if not inputs:
            raise ActionFailed("a CodeBuild action needs at least one input artifact", "ConfigurationError")
        primary_name = config.get("PrimarySource") or inputs[0]
        if primary_name not in inputs:
            raise ActionFailed(f"configuration.PrimarySource {primary_name} is not an input artifact")
        work = self._action_dir(execution, run)
        folders = {n: self._get_artifact(execution, run, n, work / "in" / n) for n in inputs}
        overrides = {
            "CODEBUILD_INITIATOR": f"codepipeline/{execution.pipeline}",
            "CODEPIPELINE_EXECUTION_ID": execution.execution_id,
        }
        raw = config.get("EnvironmentVariables")
        if raw:
            try:
                overrides.update({v["name"]: str(v.get("value", "")) for v in json.loads(raw)})
            except (TypeError, ValueError, KeyError) as exc:
                raise ActionFailed(
                    f"configuration.EnvironmentVariables must be a JSON list of name/value objects: {exc}",
                    "ConfigurationError",
                ) from exc
        runner = runner_for(self.standin)
        build = runner.new_build(name, self.region)
        run.external_id = build.build_id
        run.external_url = build.log_path.as_uri()
        run.build = build
        secondary = {n: f for n, f in folders.items() if n != primary_name}
        runner.run(dict(project.project_metadata), folders[primary_name], secondary, overrides, build=build)
        if build.status != "SUCCEEDED":
            failing = next((p for p in build.phases if p.status not in (None, "SUCCEEDED")), None)
            where = f" Phase: {failing.phase_type}" if failing else ""
            context_msg = ""
            if failing and failing.contexts:
                first = failing.contexts[0]
                context_msg = f", Code: {first.get('statusCode')}, Message: {first.get('message')}"
            tail = _failing_output(build.log_text)
            raise ActionFailed(
                f"Build terminated with state: {build.status}.{where}{context_msg}. "
                f"Log: {build.log_path}\n{tail}"
            )
        run.summary = f"Build {build.build_id} succeeded"
        outputs = run.action.get("outputArtifacts", [])
        for index, output in enumerate(outputs):
            folder = build.secondary_artifacts.get(output["name"])
            if folder is None and index == 0:
                folder = build.artifacts
            if folder is None:
                raise ActionFailed(
                    f"output artifact {output['name']}: the buildspec's artifacts produced nothing for it"
                )
            self._put_artifact(execution, run, output["name"], folder)

    def _artifact_file(self, execution: Execution, run: ActionRun, reference: str, field_name: str) -> bytes:
        if "::" not in reference:
            raise ActionFailed(
                f"configuration.{field_name} must be ArtifactName::path, got {reference!r}",
                "ConfigurationError",
            )
        artifact, path = reference.split("::", 1)
        folder = self._action_dir(execution, run) / "in" / artifact
        if not folder.exists():
            self._get_artifact(execution, run, artifact, folder)
        target = folder / path
        if not target.is_file():
            raise ActionFailed(f"configuration.{field_name}: {path} not found in artifact {artifact}")
        return target.read_bytes()

    def _cloudformation(self, execution: Execution, run: ActionRun) -> None:
        from standin import cloudformation as cfn
        from standin.dispatch import AwsError

        config = run.action.get("configuration", {})
        mode = config.get("ActionMode", "")
        stack_name = config.get("StackName")
        if not stack_name:
            raise ActionFailed("configuration.StackName is required", "ConfigurationError")
        backend = self.backend("cloudformation")
        existing = next(
            (s for s in backend.stacks.values() if s.name == stack_name and s.status != "DELETE_COMPLETE"),
            None,
        )
        env = dict(getattr(self.standin, "env", {}) or {})
        if mode == "DELETE_ONLY":
            if existing is not None:
                cfn.delete_stack_async(self.account_id, self.region, stack_name, env)
                self._wait_stack(existing.stack_id, stack_name)
            run.summary = f"Stack {stack_name} deleted"
            return
        if mode not in ("CREATE_UPDATE", "REPLACE_ON_FAILURE"):
            raise ActionFailed(
                f"configuration.ActionMode {mode!r}: the stand-in runs CREATE_UPDATE, REPLACE_ON_FAILURE and "
                "DELETE_ONLY",
                "ConfigurationError",
            )
        template = self._artifact_file(
            execution, run, config.get("TemplatePath", ""), "TemplatePath"
        ).decode()
        parameters: dict[str, str] = {}
        tags: dict[str, str] = {}
        if config.get("TemplateConfiguration"):
            raw = self._artifact_file(
                execution, run, config["TemplateConfiguration"], "TemplateConfiguration"
            )
            try:
                document = json.loads(raw)
            except ValueError as exc:
                raise ActionFailed(f"configuration.TemplateConfiguration is not JSON: {exc}") from exc
            parameters.update({k: str(v) for k, v in (document.get("Parameters") or {}).items()})
            tags.update({k: str(v) for k, v in (document.get("Tags") or {}).items()})
        if config.get("ParameterOverrides"):
            try:
                parameters.update({k: str(v) for k, v in json.loads(config["ParameterOverrides"]).items()})
            except ValueError as exc:
                raise ActionFailed(f"configuration.ParameterOverrides is not JSON: {exc}") from exc
        if existing is not None and existing.status in FAILED_STACK_STATES:
            if mode == "CREATE_UPDATE":
                raise ActionFailed(
                    f"Stack {stack_name} is in {existing.status} state and can not be updated "
                    "(REPLACE_ON_FAILURE would replace it)"
                )
            cfn.delete_stack_async(self.account_id, self.region, stack_name, env)
            self._wait_stack(existing.stack_id, stack_name)
            existing = None
        try:
            if existing is None:
                stack_id = cfn.create_stack_async(
                    self.account_id,
                    self.region,
                    stack_name,
                    template,
                    parameters,
                    tags,
                    env,
                    role_arn=config.get("RoleArn"),
                )
                expected = "CREATE_COMPLETE"
            else:
                stack_id = cfn.update_stack_async(
                    self.account_id, self.region, stack_name, template, parameters, tags or None, env
                )
                expected = "UPDATE_COMPLETE"
        except AwsError as exc:
            raise ActionFailed(f"Stack {stack_name}: {exc.code}: {exc.message}") from exc
        run.external_id = stack_id
        status = self._wait_stack(stack_id, stack_name)
        if status != expected:
            raise ActionFailed(f"Stack {stack_name} ended in {status}: {self._stack_reason(stack_id)}")
        stack = backend.stacks.get(stack_id)
        try:
            outputs = (stack.outputs if stack is not None else None) or []
        except Exception:  # an output moto cannot render must not fail a stack that was made
            outputs = []
        run.output_variables = {o["OutputKey"]: str(o["OutputValue"]) for o in outputs}
        run.summary = f"Stack {stack_name} {status}"

    def _wait_stack(self, stack_id: str, name: str) -> str:
        from standin import cloudformation as cfn

        return cfn.wait_for_stack(self.account_id, self.region, stack_id, STACK_TIMEOUT)

    def _stack_reason(self, stack_id: str) -> str:
        backend = self.backend("cloudformation")
        stack = backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)
        for event in reversed(getattr(stack, "events", []) or []):
            if str(event.resource_status).endswith("FAILED") and event.resource_status_reason:
                return f"{event.logical_resource_id}: {event.resource_status_reason}"
        return "no failure reason recorded"

    def _approval(self, execution: Execution, run: ActionRun) -> None:
        run.token = str(uuid.uuid4())
        config = run.action.get("configuration", {})
        run.summary = config.get("CustomData")
        while not run.answered.wait(0.5):
            if execution.stop_requested:
                raise ActionFailed(f"Stopped: {execution.stop_requested}", "Stopped")
        answer = run.approval or {}
        run.summary = answer.get("summary") or run.summary
        if answer.get("status") != "Approved":
            raise ActionFailed(f"Rejected: {answer.get('summary', '')}".strip(), "Rejected")

    # ------------------------------------------------------------------------------------------- API views
    def state(self, name: str) -> dict[str, Any]:
        declaration = self.declaration(name)
        executions = self.executions.get(name, [])
        stages = []
        for stage in declaration.get("stages", []):
            runs = [a for e in executions for a in e.actions if a.stage == stage["name"]]
            action_states = []
            for action in stage.get("actions", []):
                entry: dict[str, Any] = {"actionName": action["name"]}
                mine = [r for r in runs if r.name == action["name"]]
                if mine:
                    entry["latestExecution"] = mine[-1].latest()
                    if mine[-1].external_id and stage is declaration["stages"][0]:
                        entry["currentRevision"] = {"revisionId": mine[-1].external_id}
                action_states.append(entry)
            state: dict[str, Any] = {
                "stageName": stage["name"],
                "inboundTransitionState": {"enabled": True},
                "actionStates": action_states,
            }
            touched = [e for e in executions if stage["name"] in e.stage_status]
            if touched:
                latest = touched[-1]
                state["latestExecution"] = {
                    "pipelineExecutionId": latest.execution_id,
                    "status": latest.stage_status[stage["name"]],
                }
            stages.append(state)
        pipeline = self.backend("codepipeline").pipelines[name]
        return {
            "pipelineName": name,
            "pipelineVersion": int(declaration.get("version", 1)),
            "stageStates": stages,
            "created": getattr(pipeline, "create_time", _now()),
            "updated": getattr(pipeline, "update_time", _now()),
        }


def _failing_output(log_text: str, lines: int = 15) -> str:
    """The output just before the build's first failing command (what a person needs), else the log's end."""
    text = log_text.strip().splitlines()
    marker = next((i for i, line in enumerate(text) if "Command did not exit successfully" in line), None)
    if marker is None:
        return "\n".join(text[-lines:])
    return "\n".join(text[max(0, marker - lines) : marker + 1])


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buf.getvalue()


def _git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }


# ------------------------------------------------------------------------------------------------ registry
_RUNTIMES: dict[tuple[int, str, str], PipelineRuntime] = {}
_RUNTIMES_LOCK = threading.Lock()


def runtime_for(standin: Any, account_id: str, region: str) -> PipelineRuntime:
    with _RUNTIMES_LOCK:
        key = (id(standin), account_id, region)
        if key not in _RUNTIMES:
            _RUNTIMES[key] = PipelineRuntime(standin, account_id, region)
        return _RUNTIMES[key]


def forget() -> None:
    """Drop every execution record (the stand-in's reset); running threads finish on their own."""
    with _RUNTIMES_LOCK:
        for runtime in _RUNTIMES.values():
            for executions in runtime.executions.values():
                for execution in executions:
                    if execution.done.is_set():
                        continue
                    execution.stop_requested = execution.stop_requested or "the stand-in was reset"
                    for run in execution.actions:
                        build = run.build
                        if run.status == "InProgress" and build is not None and not build.done.is_set():
                            build.stop_requested = True
                            if build.process is not None and build.process.poll() is None:
                                build.process.terminate()
        _RUNTIMES.clear()


def start_pipeline(
    account_id: str, region: str, name: str, trigger_type: str, detail: str = "", revision: str | None = None
) -> Execution:
    return runtime_for(context.current(), account_id, region).start(name, trigger_type, detail, revision)


def on_pipeline_created(account_id: str, region: str, name: str) -> None:
    if not context.bound():
        log.debug("pipeline %s created; no runtime installed, so no execution starts", name)
        return
    start_pipeline(account_id, region, name, "CreatePipeline", "stand-in")


def on_git_pushed(full_name: str, branch: str, sha: str) -> list[Execution]:
    """Start every pipeline whose source action watches `full_name`'s `branch` (one execution each)."""
    from moto.backends import get_backend

    started: list[Execution] = []
    if not context.bound():
        log.debug("push to %s %s; no runtime installed, so no execution starts", full_name, branch)
        return started
    standin = context.current()
    backends = get_backend("codepipeline")
    for account_id in list(backends.keys()):
        for region, backend in list(backends[account_id].items()):
            for name, pipeline in list(backend.pipelines.items()):
                if _watches(pipeline.pipeline, full_name, branch):
                    started.append(
                        runtime_for(standin, account_id, region).start(name, "WebhookV2", full_name, sha)
                    )
    return started


def _watches(declaration: dict[str, Any], full_name: str, branch: str) -> bool:
    for stage in declaration.get("stages", [])[:1]:
        for action in stage.get("actions", []):
            config = action.get("configuration", {})
            if (
                action.get("actionTypeId", {}).get("provider") == "CodeStarSourceConnection"
                and config.get("FullRepositoryId") == full_name
                and config.get("BranchName") == branch
                and str(config.get("DetectChanges", "true")).lower() != "false"
            ):
                return True
    return False


# ------------------------------------------------------------------------------------------------ API
def register_api() -> None:
    from standin import hooks
    from standin.dispatch import AwsError, on_reset, operation

    hooks.subscribe("pipeline_created", on_pipeline_created)
    hooks.subscribe("git_pushed", on_git_pushed)
    on_reset(forget)

    def runtime(ctx: Any) -> PipelineRuntime:
        context.bind(ctx.standin)
        return runtime_for(ctx.standin, ctx.account_id, ctx.region)

    def pipeline_or_error(rt: PipelineRuntime, name: str) -> dict[str, Any]:
        try:
            return rt.declaration(name)
        except KeyError:
            raise AwsError(
                "PipelineNotFoundException",
                f"Account '{rt.account_id}' does not have a pipeline with name '{name}'",
            ) from None

    def execution_or_error(rt: PipelineRuntime, name: str, execution_id: str) -> Execution:
        pipeline_or_error(rt, name)
        execution = rt.find(name, execution_id)
        if execution is None:
            raise AwsError(
                "PipelineExecutionNotFoundException",
                f"Pipeline execution with id '{execution_id}' does not exist in pipeline with name '{name}'",
            )
        return execution

    @operation("codepipeline", "CreatePipeline")
    def _create(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        answer = ctx.forward_json()
        runtime(ctx).start(params["pipeline"]["name"], "CreatePipeline", "stand-in")
        return answer

    @operation("codepipeline", "StartPipelineExecution")
    def _start(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        rt = runtime(ctx)
        pipeline_or_error(rt, params.get("name", ""))
        execution = rt.start(params["name"], "StartPipelineExecution", "stand-in API")
        return {"pipelineExecutionId": execution.execution_id}

    @operation("codepipeline", "GetPipelineState")
    def _state(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        rt = runtime(ctx)
        pipeline_or_error(rt, params.get("name", ""))
        return rt.state(params["name"])

    @operation("codepipeline", "GetPipelineExecution")
    def _get(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        rt = runtime(ctx)
        execution = execution_or_error(
            rt, params.get("pipelineName", ""), params.get("pipelineExecutionId", "")
        )
        return {"pipelineExecution": execution.to_api()}

    @operation("codepipeline", "ListPipelineExecutions")
    def _list(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        rt = runtime(ctx)
        name = params.get("pipelineName", "")
        pipeline_or_error(rt, name)
        executions = sorted(rt.executions.get(name, []), key=lambda e: e.start, reverse=True)
        limit = int(params.get("maxResults") or 100)
        return {"pipelineExecutionSummaries": [e.summary_api() for e in executions[:limit]]}

    @operation("codepipeline", "ListActionExecutions")
    def _actions(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        rt = runtime(ctx)
        name = params.get("pipelineName", "")
        pipeline_or_error(rt, name)
        wanted = (params.get("filter") or {}).get("pipelineExecutionId")
        details = []
        for execution in sorted(rt.executions.get(name, []), key=lambda e: e.start, reverse=True):
            if wanted and execution.execution_id != wanted:
                continue
            for run in reversed(execution.actions):
                details.append(run.detail(name, execution.version))
        if wanted and not details and rt.find(name, wanted) is None:
            raise AwsError("PipelineExecutionNotFoundException", f"Pipeline execution {wanted} not found")
        return {"actionExecutionDetails": details}

    @operation("codepipeline", "PutApprovalResult")
    def _approve(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        rt = runtime(ctx)
        name = params.get("pipelineName", "")
        declaration = pipeline_or_error(rt, name)
        stage = next((s for s in declaration.get("stages", []) if s["name"] == params.get("stageName")), None)
        if stage is None:
            raise AwsError("StageNotFoundException", f"Stage {params.get('stageName')} not found in {name}")
        action = next((a for a in stage.get("actions", []) if a["name"] == params.get("actionName")), None)
        if action is None or action.get("actionTypeId", {}).get("category") != "Approval":
            raise AwsError("ActionNotFoundException", f"Approval action {params.get('actionName')} not found")
        result = params.get("result") or {}
        if result.get("status") not in ("Approved", "Rejected"):
            raise AwsError("ValidationException", "result.status must be Approved or Rejected")
        runs = [
            r
            for e in rt.executions.get(name, [])
            for r in e.actions
            if r.stage == stage["name"] and r.name == action["name"]
        ]
        waiting = [r for r in runs if r.status == "InProgress"]
        token = params.get("token")
        match = next((r for r in waiting if r.token == token), None)
        if match is None:
            if any(r.token == token for r in runs):
                raise AwsError(
                    "ApprovalAlreadyCompletedException", "This approval request has already been completed"
                )
            raise AwsError(
                "InvalidApprovalTokenException",
                f"The token {token} is not the token of approval action {action['name']} awaiting an answer",
            )
        match.approval = {"status": result["status"], "summary": result.get("summary", "")}
        match.answered.set()
        return {"approvedAt": _now()}

    @operation("codepipeline", "StopPipelineExecution")
    def _stop(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        rt = runtime(ctx)
        execution = execution_or_error(
            rt, params.get("pipelineName", ""), params.get("pipelineExecutionId", "")
        )
        if execution.status != "InProgress":
            raise AwsError(
                "PipelineExecutionNotStoppableException",
                f"Pipeline execution {execution.execution_id} is {execution.status} and cannot be stopped",
            )
        execution.stop_requested = params.get("reason") or "Stopped by the API"
        execution.status = "Stopping"
        return {"pipelineExecutionId": execution.execution_id}
