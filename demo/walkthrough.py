"""The walkthrough, step by step, on the stand-in (see `demo/__init__.py`)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
OWNER = "demo-org"
BUILD_REPO = f"{OWNER}/abalone-modelbuild"
DEPLOY_REPO = f"{OWNER}/abalone-modeldeploy"
STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-demo"
EDIT_FILE = "pipelines/abalone/pipeline.py"
EDIT_FROM, EDIT_TO = "ml.m5.xlarge", "ml.m5.large"
# What the account setup and registration make: it stays after the project is deleted, as on AWS.
KEPT = "kept (account setup)"


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
        except Exception as error:  # noqa: BLE001 - every failure becomes a clear step failure
            raise DemoFailed(name, f"{type(error).__name__}: {error}") from error
        seconds = time.perf_counter() - began
        self.result.steps.append((name, seconds))
        self.say(f"     ok ({seconds:.1f} s)")

    def fail(self, message: str) -> DemoFailed:
        return DemoFailed(self.current, message)

    # -- the real commands ---------------------------------------------------------------------------------

    def sm(self, *args: str) -> Any:
        """`sm-mlops --output json ARGS` with the stand-in's environment; progress lines become sub-steps."""
        command = [sys.executable, "-m", "scripts.cli", "--output", "json", *args]
        self.note("$ sm-mlops " + " ".join(args))
        done = subprocess.run(
            command, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=self.timeout
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

    def client(self, service: str) -> Any:
        return self.standin.client(service)

    def wait(self, what: str, check: Callable[[], T | None], missing: str, timeout: float | None = None) -> T:
        """Poll `check` until it returns a value; on timeout say which part did not do its work."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            value = check()
            if value is not None:
                return value
            time.sleep(1.0)
        raise self.fail(f"timed out waiting for {what}: {missing}")


# --- what exists of the project -----------------------------------------------------------------------------


def _names(call: Callable[[], list[str]]) -> list[str]:
    try:
        return sorted(call())
    except Exception as error:  # noqa: BLE001 - an API the stand-in lacks is shown, not fatal
        return [f"<could not list: {type(error).__name__}: {error}>"]


def inventory(walk: Walkthrough, name: str, project_id: str, stacks: set[str]) -> dict[str, list[str]]:
    """Every resource of the project the APIs show now, by kind (names carry the id or project name)."""
    c = walk.client
    live = ("CREATE_", "UPDATE_", "ROLLBACK_", "DELETE_IN_PROGRESS", "DELETE_FAILED", "IMPORT_")

    def stacks_now() -> list[str]:
        listed = c("cloudformation").list_stacks()["StackSummaries"]
        return [
            s["StackName"]
            for s in listed
            if s["StackStatus"].startswith(live)
            and (project_id in s["StackName"] or s["StackName"] in stacks)
        ]

    def project() -> list[str]:
        try:
            status = c("sagemaker").describe_project(ProjectName=name)["ProjectStatus"]
        except Exception:  # noqa: BLE001 - gone
            return []
        return [] if status == "DeleteCompleted" else [name]

    def model_versions() -> list[str]:
        groups = [g for g in _names(groups_now) if not g.startswith("<")]
        versions = []
        for group in groups:
            listed = c("sagemaker").list_model_packages(ModelPackageGroupName=group)[
                "ModelPackageSummaryList"
            ]
            versions += [
                p["ModelPackageArn"].rsplit("/", 2)[-2] + "/" + str(p["ModelPackageVersion"]) for p in listed
            ]
        return versions

    def groups_now() -> list[str]:
        listed = c("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
        return [g["ModelPackageGroupName"] for g in listed if project_id in g["ModelPackageGroupName"]]

    def log_groups() -> list[str]:
        groups = c("logs").describe_log_groups()["logGroups"]
        endpoints = tuple(f"/aws/sagemaker/Endpoints/{name}-{stage}" for stage in ("staging", "prod"))
        return [
            g["logGroupName"]
            for g in groups
            if project_id in g["logGroupName"] or g["logGroupName"] in endpoints
        ]

    def job_streams() -> list[str]:  # the walkthrough's stand-in runs no other project's jobs
        streams = []
        for group in ("/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs"):
            try:
                listed = c("logs").describe_log_streams(logGroupName=group)["logStreams"]
            except c("logs").exceptions.ResourceNotFoundException:
                continue
            streams += [f"{group}:{s['logStreamName']}" for s in listed]
        return streams

    def trials() -> list[str]:  # the SageMaker pipeline's executions', in its Experiment
        experiment = f"sagemaker-{name}-{project_id}"
        return [
            t["TrialName"] for t in c("sagemaker").list_trials(ExperimentName=experiment)["TrialSummaries"]
        ]

    def access_logs() -> list[str]:
        account, region = c("sts").get_caller_identity()["Account"], c("s3").meta.region_name
        bucket = f"sagemaker-mlops-assets-{account}-{region}"
        listed = c("s3").list_object_versions(Bucket=bucket, Prefix=f"access-logs/{project_id}/")
        return [v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]

    return {
        "project": _names(project),
        "CloudFormation stack": _names(stacks_now),
        "CodePipeline pipeline": _names(
            lambda: [
                p["name"] for p in c("codepipeline").list_pipelines()["pipelines"] if project_id in p["name"]
            ]
        ),
        "CodeBuild project": _names(
            lambda: [p for p in c("codebuild").list_projects()["projects"] if project_id in p]
        ),
        "Lambda function": _names(
            lambda: [
                f["FunctionName"]
                for f in c("lambda").list_functions()["Functions"]
                if project_id in f["FunctionName"]
            ]
        ),
        "EventBridge rule": _names(
            lambda: [r["Name"] for r in c("events").list_rules()["Rules"] if project_id in r["Name"]]
        ),
        "SageMaker code repository": _names(
            lambda: [
                r["CodeRepositoryName"]
                for r in c("sagemaker").list_code_repositories()["CodeRepositorySummaryList"]
                if project_id in r["CodeRepositoryName"]
            ]
        ),
        "S3 bucket": _names(
            lambda: [b["Name"] for b in c("s3").list_buckets()["Buckets"] if project_id in b["Name"]]
        ),
        "SageMaker pipeline": _names(
            lambda: [
                p["PipelineName"]
                for p in c("sagemaker").list_pipelines()["PipelineSummaries"]
                if project_id in p["PipelineName"]
            ]
        ),
        "model package group": _names(groups_now),
        "model version": _names(model_versions),
        "SageMaker endpoint": _names(
            lambda: [
                e["EndpointName"]
                for e in c("sagemaker").list_endpoints()["Endpoints"]
                if e["EndpointName"].startswith(f"{name}-")
            ]
        ),
        "log group": _names(log_groups),
        "job log stream": _names(job_streams),
        "SageMaker experiment": _names(
            lambda: [
                e["ExperimentName"]
                for e in c("sagemaker").list_experiments()["ExperimentSummaries"]
                if project_id in e["ExperimentName"]
            ]
        ),
        "SageMaker trial": _names(trials),
        "access log object": _names(access_logs),
    }


# --- the walkthrough ----------------------------------------------------------------------------------------


def _missing_runtime(part: str) -> str:
    return (
        f"{part} did not happen; this is the stand-in's runtime (standin/runtime, issue 5) or its "
        "CloudFormation types (standin/cloudformation, issue 4): see the log above"
    )


def _execution_ids(walk: Walkthrough, pipeline: str) -> list[dict[str, Any]]:
    try:
        return list(
            walk.client("codepipeline").list_pipeline_executions(pipelineName=pipeline)[
                "pipelineExecutionSummaries"
            ]
        )
    except Exception:  # noqa: BLE001 - not there yet
        return []


def _follow_execution(walk: Walkthrough, pipeline: str, known: set[str], what: str) -> dict[str, Any]:
    """Wait for a new execution of `pipeline` (not in `known`) to finish; print its status changes."""
    seen: dict[str, str] = {}

    def check() -> dict[str, Any] | None:
        for execution in _execution_ids(walk, pipeline):
            eid, status = execution["pipelineExecutionId"], execution["status"]
            if eid in known:
                continue
            if seen.get(eid) != status:
                walk.note(f"{pipeline} execution {eid[:8]}: {status}")
                seen[eid] = status
            if status in {"Succeeded", "Failed", "Stopped", "Superseded"}:
                return execution
        return None

    execution = walk.wait(what, check, _missing_runtime(what))
    if execution["status"] != "Succeeded":
        detail = _failed_action(walk, pipeline)
        raise walk.fail(f"{what}: the execution ended {execution['status']}{detail}")
    return execution


def _failed_action(walk: Walkthrough, pipeline: str) -> str:
    try:
        state = walk.client("codepipeline").get_pipeline_state(name=pipeline)
    except Exception:  # noqa: BLE001
        return ""
    for stage in state.get("stageStates", []):
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution", {})
            if latest.get("status") == "Failed":
                message = latest.get("errorDetails", {}).get("message", "")
                return f"; action {stage['stageName']}/{action['actionName']} failed: {message}"
    return ""


def _action_status(walk: Walkthrough, pipeline: str, stage: str, action: str) -> str:
    try:
        state = walk.client("codepipeline").get_pipeline_state(name=pipeline)
    except Exception:  # noqa: BLE001
        return ""
    for stage_state in state.get("stageStates", []):
        if stage_state["stageName"] != stage:
            continue
        for action_state in stage_state.get("actionStates", []):
            if action_state["actionName"] == action:
                return str(action_state.get("latestExecution", {}).get("status", ""))
    return ""


def _stack_status(walk: Walkthrough, stack: str) -> str:
    try:
        return str(walk.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])
    except Exception:  # noqa: BLE001
        return ""


def _model_count(walk: Walkthrough, group: str) -> int:
    try:
        return len(
            walk.client("sagemaker").list_model_packages(ModelPackageGroupName=group)[
                "ModelPackageSummaryList"
            ]
        )
    except Exception:  # noqa: BLE001
        return 0


def walkthrough(walk: Walkthrough) -> DemoResult:
    name, result = walk.result.project, walk.result
    admin = walk.standin.admin

    with walk.step("account setup: a Studio domain and its execution role (exists in any Studio account)"):
        iam = walk.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(
            RoleName=STUDIO_ROLE_NAME, Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust)
        )
        walk.client("sagemaker").create_domain(
            DomainName="demo-studio",
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": role["Role"]["Arn"]},
            SubnetIds=["subnet-0demo"],
            VpcId="vpc-0demo",
        )
        walk.note(f"Studio execution role {role['Role']['Arn']}")

    with walk.step("bootstrap: Studio service roles, SageMaker projects enabled"):
        rows = walk.sm("bootstrap")
        walk.note(
            f"{sum(r['action'] == 'created' for r in rows)} roles created; projects: {rows[-1]['action']}"
        )

    with walk.step("step 1: create the connection and complete its handshake"):
        connection = walk.sm("connection", "create", "--name", "demo-github")
        arn = connection["arn"]
        admin.authorize_connection(arn)
        walk.note("handshake completed in the provider (stand-in admin)")
        walk.sm("connection", "check", "--connection-arn", arn)

    with walk.step("the two GitHub repositories, each initialised with a README"):
        urls = {}
        for repo in (BUILD_REPO, DEPLOY_REPO):
            urls[repo] = admin.create_repository(repo, readme=f"# {repo.split('/')[1]}\n")
            walk.note(f"{repo}: {urls[repo]}")

    with walk.step("register the template as a Service Catalog product"):
        registration = walk.sm("register", "--render")
        walk.note(f"product {registration['product_id']}, version {registration['provisioning_artifact_id']}")
        again = walk.sm("register", "--render")
        if (again["product_id"], again["provisioning_artifact_id"]) != (
            registration["product_id"],
            registration["provisioning_artifact_id"],
        ) or any(
            re.search(r"\b(created|uploaded|associated|deprecated|added)\b", a["action"])
            for a in again["actions"]
        ):
            raise walk.fail(f"a second `sm-mlops register` changed something: {again['actions']}")
        walk.note("registered again: nothing new (one portfolio, one product, one version)")

    with walk.step("preflight"):
        rows = walk.sm("preflight", "--connection-arn", arn)
        for row in rows:
            if row["status"] != "ok":
                walk.note(f"{row['status']}: {row['check']}: {row['detail']}")
        problems = [row for row in rows if row["status"] == "problem"]
        if problems:
            raise walk.fail(f"preflight found {len(problems)} problem(s): {problems}")
        walk.note(f"{len(rows)} checks, {sum(row['status'] == 'ok' for row in rows)} ok")

    stacks_before = {s["StackName"] for s in walk.client("cloudformation").list_stacks()["StackSummaries"]}
    with walk.step("step 2: create the project (both repositories seeded)"):
        created = walk.sm(
            "project",
            "create",
            name,
            "--build-repo",
            BUILD_REPO,
            "--deploy-repo",
            DEPLOY_REPO,
            "--connection-arn",
            arn,
        )
        result.project_id = created["id"]
        for repo, marker in ((BUILD_REPO, EDIT_FILE), (DEPLOY_REPO, "buildspec.yml")):
            files = walk.git("ls-tree", "-r", "--name-only", "HEAD", cwd=_clone(walk, urls[repo], repo))
            if marker not in files.split():
                raise walk.fail(f"{repo} was not seeded: {marker} is missing (seeding check-in, issue 3)")
            walk.note(f"{repo} seeded ({len(files.split())} files, README kept)")
    project_stacks = {
        s["StackName"] for s in walk.client("cloudformation").list_stacks()["StackSummaries"]
    } - stacks_before
    prefix = f"sagemaker-{name}-{result.project_id}"
    build_pipeline, deploy_pipeline = f"{prefix}-modelbuild", f"{prefix}-modeldeploy"
    group = f"{name}-{result.project_id}"

    with walk.step("the first model build (started when the project was created)"):
        _follow_execution(walk, build_pipeline, set(), "the first run of the model build pipeline")
        walk.note(f"model versions registered: {_model_count(walk, group)}")

    with walk.step(f"step 3: commit the walkthrough's edit ({EDIT_FROM} -> {EDIT_TO}) and push"):
        clone = _clone(walk, urls[BUILD_REPO], BUILD_REPO)
        path = clone / EDIT_FILE
        lines = path.read_text().splitlines(keepends=True)
        edited = [ln.replace(EDIT_FROM, EDIT_TO) if "TrainingInstanceType" in ln else ln for ln in lines]
        if edited == lines:
            raise walk.fail(
                f"no TrainingInstanceType line with {EDIT_FROM} in {EDIT_FILE} (model build seed, issue 3)"
            )
        path.write_text("".join(edited))
        known = {e["pipelineExecutionId"] for e in _execution_ids(walk, build_pipeline)}
        models_before = _model_count(walk, group)
        walk.git("commit", "-am", f"Train on {EDIT_TO}", cwd=clone)
        walk.git("push", "origin", "HEAD", cwd=clone)
        walk.note(f"pushed to {BUILD_REPO} main")

    with walk.step(
        "watch the build pipeline run the SageMaker pipeline until a new model version is registered"
    ):
        _follow_execution(walk, build_pipeline, known, "the model build pipeline run started by the push")
        count = walk.wait(
            "a new model version",
            lambda: _model_count(walk, group) if _model_count(walk, group) > models_before else None,
            _missing_runtime("registering a model version (SageMaker pipeline RegisterModel step)"),
            timeout=60,
        )
        definition = walk.client("sagemaker").describe_pipeline(PipelineName=prefix)["PipelineDefinition"]
        parameters = {p["Name"]: p.get("DefaultValue") for p in json.loads(definition).get("Parameters", [])}
        if parameters.get("TrainingInstanceType") != EDIT_TO:
            raise walk.fail(
                f"the pipeline that ran trains on {parameters.get('TrainingInstanceType')}, not {EDIT_TO}"
            )
        walk.note(f"model versions: {count}; the pipeline that ran trains on {EDIT_TO}")

    known_deploy = {e["pipelineExecutionId"] for e in _execution_ids(walk, deploy_pipeline)}
    with walk.step("step 4: approve the new model version"):
        approved = walk.sm("model", "approve", name)
        walk.note(f"version {approved['version']}: {approved['before']} -> Approved")

    staging, prod = f"{prefix}-deploy-staging", f"{prefix}-deploy-prod"
    with walk.step("watch the staging stack appear and its test pass"):

        def staging_tested() -> bool | None:
            for execution in _execution_ids(walk, deploy_pipeline):
                if execution["pipelineExecutionId"] not in known_deploy and execution["status"] in {
                    "Failed",
                    "Stopped",
                }:
                    raise walk.fail(f"the deploy pipeline failed{_failed_action(walk, deploy_pipeline)}")
            ready = (
                _action_status(walk, deploy_pipeline, "DeployStaging", "ApproveDeployment") == "InProgress"
            )
            return (
                True
                if ready
                and _action_status(walk, deploy_pipeline, "DeployStaging", "TestStaging") == "Succeeded"
                else None
            )

        walk.wait(
            "the staging deployment and its test", staging_tested, _missing_runtime("the staging deployment")
        )
        walk.note(f"{staging}: {_stack_status(walk, staging)}; TestStaging Succeeded; waiting for approval")

    with walk.step("step 5: promote to production"):
        walk.sm("deploy", "promote", name)

    with walk.step("watch the prod stack appear"):
        _follow_execution(walk, deploy_pipeline, known_deploy, "the deployment to production")
        walk.note(f"{prod}: {_stack_status(walk, prod)}")

    with walk.step("project status"):
        status = walk.sm("project", "status", name)
        for endpoint in status["endpoints"]:
            walk.note(
                f"endpoint {endpoint['endpoint']} ({endpoint['stage']}): {endpoint['instances']} x "
                f"{endpoint['instance_type']}, ${endpoint['hourly_usd']}/hour"
            )
        walk.note(f"total ${status['hourly_cost_usd']}/hour ({status['price_source']})")
        result.created = inventory(walk, name, result.project_id, project_stacks)

    with walk.step("step 6: delete the project and everything it made"):
        planned = walk.sm("project", "delete", name, "--dry-run")
        done = walk.sm("project", "delete", name, "--yes")
        for row in done:
            walk.note(f"{row['action']} {row['kind']} {row['name']}")
        if [(r["kind"], r["name"]) for r in done] != [(r["kind"], r["name"]) for r in planned]:
            raise walk.fail(f"--dry-run planned {planned} but the delete did {done}")

    with walk.step("check that nothing of the project is left"):
        deadline = time.monotonic() + 60  # deletions the stand-in finishes in the background
        remaining = inventory(walk, name, result.project_id, project_stacks)
        while any(remaining.values()) and time.monotonic() < deadline:
            time.sleep(1.0)
            remaining = inventory(walk, name, result.project_id, project_stacks)
        result.remaining = remaining
        left = {kind: names for kind, names in remaining.items() if names}
        if left:
            raise walk.fail(f"left behind after delete: {left}")
        walk.note("nothing left")
    result.table = make_table(result)
    return result


def _clone(walk: Walkthrough, url: str, repo: str) -> Path:
    target = walk.workdir / "clones" / f"{repo.replace('/', '__')}-{time.monotonic_ns()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    walk.git("clone", "--quiet", url, str(target))
    return target


def make_table(result: DemoResult) -> list[dict[str, str]]:
    """One row per resource: what made it and whether it is gone."""
    rows = [
        {"resource": "IAM roles of the Studio family", "made by": "bootstrap", "after delete": KEPT},
        {"resource": "CodeConnections connection", "made by": "connection create", "after delete": KEPT},
        {
            "resource": f"GitHub repositories {BUILD_REPO}, {DEPLOY_REPO}",
            "made by": "the data scientist",
            "after delete": "kept (your code)",
        },
        {"resource": "asset bucket, portfolio, product", "made by": "register", "after delete": KEPT},
    ]
    for kind, names in result.created.items():
        for item in names:
            gone = item not in result.remaining.get(kind, [])
            rows.append(
                {
                    "resource": f"{kind} {item}",
                    "made by": "the project",
                    "after delete": "removed" if gone else "LEFT",
                }
            )
    return rows


def print_table(result: DemoResult, out: TextIO = sys.stdout) -> None:
    print(
        f"\nWhat the walkthrough created and removed (project {result.project}, id {result.project_id}):",
        file=out,
    )
    width = max(len(r["resource"]) for r in result.table) if result.table else 10
    for row in result.table:
        print(f"  {row['resource']:<{width}}  {row['made by']:<18}  {row['after delete']}", file=out)
    total = sum(seconds for _, seconds in result.steps)
    print(f"\n{len(result.steps)} steps in {total:.0f} s", file=out)


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


def run(
    project: str = "abalone", timeout: float = 900.0, out: TextIO | None = None, log_path: Path | None = None
) -> DemoResult:
    """Start the stand-in and run the walkthrough; returns the table of what was created and removed."""
    out = out or sys.stdout
    log_path = log_path or ROOT / "build" / "demo" / "standin.log"
    began = time.perf_counter()
    try:
        from standin.server import StandIn
    except ImportError as error:
        raise DemoFailed(
            "start the stand-in", f"the stand-in server is missing (standin/server.py, issue 4): {error}"
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
            print(f"[ 0] the local AWS stand-in at {standin.endpoint_url}; its log: {log_path}", file=out)
            walk = Walkthrough(standin, Path(workdir), out, timeout, project)
            walk.result.steps.append(("start the stand-in", time.perf_counter() - began))
            try:
                return walkthrough(walk)
            except DemoFailed as error:
                builds = _dump_failed_builds(standin, log_path.parent / "failed-builds.log")
                where = f"the stand-in's log: {log_path}" + (
                    f"; failed builds' logs: {builds}" if builds else ""
                )
                raise DemoFailed(error.step, f"{error} ({where})") from error
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        stray.close()


def _dump_failed_builds(standin: Any, path: Path) -> Path | None:
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
