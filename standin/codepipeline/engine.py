"""CodePipeline's engine: executions of the pipelines moto's codepipeline backend stores.

An execution starts when a pipeline is created (as AWS does), on every push to a watched branch, and on
`start_pipeline_execution`. It walks the stages in order and the actions of a stage by `runOrder`; each action
kind runs in its own module of `standin.codepipeline.actions` (source, codebuild, cloudformation, approval).

Execution modes: SUPERSEDED (default; one execution per stage, a newer execution waiting to enter a stage
supersedes an older one waiting there), QUEUED (they wait in order) and PARALLEL (no locking).
"""

from __future__ import annotations

import logging
import random
import string
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.backends import get_backend

from standin import changes, engines, hooks
from standin.codepipeline.actions.approval import approval_action
from standin.codepipeline.actions.cloudformation import cloudformation_action
from standin.codepipeline.actions.codebuild import codebuild_action
from standin.codepipeline.actions.source import source_action
from standin.codepipeline.executions import ActionFailed, ActionRun, Execution, Superseded, now
from standin.ziputil import extract_zip, zip_folder

log = logging.getLogger(__name__)

ActionKind = Callable[["PipelineRuntime", Execution, ActionRun], None]
# (category, provider) → what runs the action.
ACTION_KINDS: dict[tuple[str, str], ActionKind] = {
    ("Source", "CodeStarSourceConnection"): source_action,
    ("Build", "CodeBuild"): codebuild_action,
    ("Test", "CodeBuild"): codebuild_action,
    ("Deploy", "CloudFormation"): cloudformation_action,
    ("Approval", "Manual"): approval_action,
}


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
        return get_backend(service)[self.account_id][self.region]  # type: ignore[call-overload]

    def declaration(self, name: str) -> dict[str, Any]:
        pipeline = self.backend("codepipeline").pipelines.get(name)
        if pipeline is None:
            raise KeyError(name)
        return pipeline.pipeline

    def client(self, service: str) -> Any:
        return engines.client(self.standin, service, self.region)

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
                changes.notify()
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
            execution.updated = now()
            execution.done.set()
            changes.notify()

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
            changes.notify()
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
        handler = ACTION_KINDS.get((str(category), str(provider)))
        try:
            if handler is None:
                raise ActionFailed(
                    f"The stand-in cannot run {category}/{provider} actions", "ConfigurationError"
                )
            handler(self, execution, run)
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
        run.updated = execution.updated = now()
        changes.notify()
        return run.status == "Succeeded"

    # ------------------------------------------------------------------------------------------- artifacts
    def _artifact_store(self, execution: Execution) -> str:
        store = self.declaration(execution.pipeline).get("artifactStore") or {}
        if store.get("type", "S3") != "S3" or not store.get("location"):
            raise ActionFailed("artifactStore: an S3 bucket location is required", "ConfigurationError")
        return store["location"]

    def put_artifact(self, execution: Execution, run: ActionRun, name: str, folder: Path) -> None:
        bucket = self._artifact_store(execution)
        suffix = "".join(random.choices(string.ascii_letters + string.digits, k=7))
        key = f"{execution.pipeline[:20]}/{name[:20]}/{suffix}"
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=zip_folder(folder))
        execution.artifacts[name] = {"bucket": bucket, "key": key}
        run.outputs.append({"name": name, "s3location": {"bucket": bucket, "key": key}})

    def get_artifact(self, execution: Execution, run: ActionRun, name: str, dest: Path) -> Path:
        location = execution.artifacts.get(name)
        if location is None:
            raise ActionFailed(
                f"Input artifact {name} was not produced by an earlier action", "ConfigurationError"
            )
        data = self.client("s3").get_object(Bucket=location["bucket"], Key=location["key"])["Body"].read()
        extract_zip(data, dest)
        run.inputs.append({"name": name, "s3location": dict(location)})
        return dest

    def action_dir(self, execution: Execution, run: ActionRun) -> Path:
        folder = self.workdir / execution.execution_id / run.action_execution_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

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
            "created": getattr(pipeline, "create_time", now()),
            "updated": getattr(pipeline, "update_time", now()),
        }


# ------------------------------------------------------------------------------------------------ registry


def runtime_for(standin: Any, account_id: str, region: str) -> PipelineRuntime:
    """The executions of `standin`'s pipelines in one account and region (kept by the stand-in)."""
    runtimes: dict[tuple[str, str], PipelineRuntime] = engines.engine_state(standin, "codepipeline", dict)
    with _RUNTIMES_LOCK:
        key = (account_id, region)
        if key not in runtimes:
            runtimes[key] = PipelineRuntime(standin, account_id, region)
        return runtimes[key]


_RUNTIMES_LOCK = threading.Lock()


@engines.stops_with("codepipeline")
def forget(runtimes: dict[tuple[str, str], PipelineRuntime]) -> None:
    """Stop a stand-in's executions, drop their records (its reset or stop); threads finish on their own."""
    with _RUNTIMES_LOCK:
        for runtime in runtimes.values():
            _stop_everything(runtime)
        runtimes.clear()


def _stop_everything(runtime: PipelineRuntime) -> None:
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


def start_pipeline(
    account_id: str, region: str, name: str, trigger_type: str, detail: str = "", revision: str | None = None
) -> Execution:
    return runtime_for(engines.current(), account_id, region).start(name, trigger_type, detail, revision)


def on_pipeline_created(account_id: str, region: str, name: str) -> None:
    if not engines.runs_work():
        log.debug("pipeline %s created; no runtime installed, so no execution starts", name)
        return
    start_pipeline(account_id, region, name, "CreatePipeline", "stand-in")


def on_git_pushed(full_name: str, branch: str, sha: str) -> list[Execution]:
    """Start every pipeline whose source action watches `full_name`'s `branch` (one execution each)."""
    started: list[Execution] = []
    if not engines.runs_work():
        log.debug("push to %s %s; no runtime installed, so no execution starts", full_name, branch)
        return started
    standin = engines.current()
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


hooks.subscribe("pipeline_created", on_pipeline_created)
hooks.subscribe("git_pushed", on_git_pushed)
