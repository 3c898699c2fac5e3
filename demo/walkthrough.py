"""The walkthrough, step by step, on the stand-in (see `demo/__init__.py`): one function per step, composed by
`walkthrough()`; `run()` starts the stand-in (`demo.harness`) and runs it."""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from demo.account import STUDIO_ROLE_POLICY, create_studio_role
from demo.harness import ROOT, DemoFailed, DemoResult, Walkthrough, dump_failed_builds, started
from demo.inventory import inventory, leftovers
from generator import constants as c
from scripts.projects import Names

__all__ = ["KEPT", "DemoFailed", "DemoResult", "inventory", "make_table", "print_table", "run", "walkthrough"]

OWNER = "demo-org"
BUILD_REPO = f"{OWNER}/abalone-modelbuild"
DEPLOY_REPO = f"{OWNER}/abalone-modeldeploy"
STUDIO_ROLE_NAME = "AmazonSageMaker-ExecutionRole-demo"
EDIT_FILE = "pipelines/abalone/pipeline.py"
EDIT_FROM, EDIT_TO = "ml.m5.xlarge", "ml.m5.large"
# What the account setup and registration make: it stays after the project is deleted, as on AWS.
KEPT = "kept (account setup)"


@dataclass
class Made:
    """What the steps hand on to later steps."""

    connection_arn: str = ""
    repo_urls: dict[str, str] = field(default_factory=dict)
    project_stacks: set[str] = field(default_factory=set)
    known_builds: set[str] = field(default_factory=set)
    known_deploys: set[str] = field(default_factory=set)
    models_before: int = 0
    # The data scientist's credentials: a session of the Studio execution role (steps 2 to 5).
    scientist: dict[str, str] = field(default_factory=dict)

    def names(self, walk: Walkthrough) -> Names:
        """The project's resource names, from its name and id (the contract's)."""
        return Names(walk.result.project, walk.result.project_id)


# --- watching what AWS runs ---------------------------------------------------------------------------------


def _missing_runtime(part: str) -> str:
    return (
        f"{part} did not happen; this is the stand-in's engines (standin/codepipeline, standin/codebuild, "
        "standin/sagemaker) or its CloudFormation engine (standin/cloudformation): see the log above"
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


def _ran_before(walk: Walkthrough, pipeline: str, seed: str) -> set[str]:
    """Ended runs of ``pipeline`` whose source was not the seed's commit ``seed``."""
    return {
        e["pipelineExecutionId"]
        for e in _execution_ids(walk, pipeline)
        if e["status"] in {"Failed", "Stopped", "Superseded"}
        and all(r.get("revisionId") != seed for r in e.get("sourceRevisions") or [])
    }


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


# --- the steps ----------------------------------------------------------------------------------------------


def account_setup(walk: Walkthrough, made: Made) -> None:
    with walk.step("account setup: a Studio domain and its execution role (exists in any Studio account)"):
        account = walk.client("sts").get_caller_identity()["Account"]
        role_arn = create_studio_role(walk.client("iam"), account, STUDIO_ROLE_NAME, path="/service-role/")
        walk.client("sagemaker").create_domain(
            DomainName="demo-studio",
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": role_arn},
            SubnetIds=["subnet-0demo"],
            VpcId="vpc-0demo",
        )
        walk.note(f"Studio execution role {role_arn} with {STUDIO_ROLE_POLICY}")
        made.scientist = walk.assume(role_arn, "data-scientist")
        walk.note(
            "the data scientist's steps (2 to 4) run in a session of this role; the admin's as the admin"
        )


def bootstrap(walk: Walkthrough, made: Made) -> None:
    with walk.step("bootstrap: Studio service roles, SageMaker projects enabled"):
        rows = walk.sm("bootstrap")
        walk.note(
            f"{sum(r['action'] == 'created' for r in rows)} roles created; projects: {rows[-1]['action']}"
        )


def step1_connection(walk: Walkthrough, made: Made) -> None:
    with walk.step("step 1: create the connection and complete its handshake"):
        connection = walk.sm("connection", "create", "--name", "demo-github")
        made.connection_arn = arn = connection["arn"]
        walk.standin.admin.authorize_connection(arn)
        walk.note("handshake completed in the provider (stand-in admin)")
        walk.sm("connection", "check", "--connection-arn", arn)


def repositories(walk: Walkthrough, made: Made) -> None:
    with walk.step("the two GitHub repositories, each initialised with a README"):
        for repo in (BUILD_REPO, DEPLOY_REPO):
            made.repo_urls[repo] = walk.standin.admin.create_repository(
                repo, readme=f"# {repo.split('/')[1]}\n"
            )
            walk.note(f"{repo}: {made.repo_urls[repo]}")


def register(walk: Walkthrough, made: Made) -> None:
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


def preflight(walk: Walkthrough, made: Made) -> None:
    with walk.step("preflight"):
        # The roles `bootstrap` writes today lack actions of the permission table: reported, not fatal, until
        # bootstrap gives each role what AWS gives it.
        rows = walk.sm("preflight", "--connection-arn", made.connection_arn, "--permissions-as-warnings")
        for row in rows:
            if row["status"] != "ok":
                walk.note(f"{row['status']}: {row['check']}: {row['detail']}")
        problems = [row for row in rows if row["status"] == "problem"]
        if problems:
            raise walk.fail(f"preflight found {len(problems)} problem(s): {problems}")
        walk.note(f"{len(rows)} checks, {sum(row['status'] == 'ok' for row in rows)} ok")


def _stack_names(walk: Walkthrough) -> set[str]:
    return {s["StackName"] for s in walk.client("cloudformation").list_stacks()["StackSummaries"]}


def step2_create_project(walk: Walkthrough, made: Made) -> None:
    name, result = walk.result.project, walk.result
    stacks_before = _stack_names(walk)
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
            made.connection_arn,
            identity=made.scientist,
        )
        result.project_id = created["id"]
        for repo, marker in ((BUILD_REPO, EDIT_FILE), (DEPLOY_REPO, "buildspec.yml")):
            files = walk.git(
                "ls-tree", "-r", "--name-only", "HEAD", cwd=walk.clone(made.repo_urls[repo], repo)
            )
            if marker not in files.split():
                raise walk.fail(f"{repo} was not seeded: {marker} is missing (the seeding check-in)")
            walk.note(f"{repo} seeded ({len(files.split())} files, README kept)")
    made.project_stacks = _stack_names(walk) - stacks_before


def first_model_build(walk: Walkthrough, made: Made) -> None:
    names = made.names(walk)
    with walk.step("the first model build (started when the project was created)"):
        # As on AWS, the stack creates the pipeline while the seed is being pushed: a run that started
        # before the seed arrived fails (no buildspec in the README-only repository); the seed's push
        # starts the run that builds it.
        seed = walk.git("ls-remote", made.repo_urls[BUILD_REPO], "refs/heads/main").split()[0]
        before_seed: set[str] = set()
        while True:
            try:
                _follow_execution(
                    walk, names.build_pipeline, before_seed, "the first run of the model build pipeline"
                )
                break
            except DemoFailed:
                early = _ran_before(walk, names.build_pipeline, seed) - before_seed
                if not early:
                    raise
                walk.note(f"{len(early)} run(s) started before the seed arrived failed, as on AWS")
                before_seed |= early
        walk.note(f"model versions registered: {_model_count(walk, names.model_package_group)}")


def step3_edit_and_push(walk: Walkthrough, made: Made) -> None:
    names = made.names(walk)
    with walk.step(f"step 3: commit the walkthrough's edit ({EDIT_FROM} -> {EDIT_TO}) and push"):
        clone = walk.clone(made.repo_urls[BUILD_REPO], BUILD_REPO)
        path = clone / EDIT_FILE
        lines = path.read_text().splitlines(keepends=True)
        edited = [ln.replace(EDIT_FROM, EDIT_TO) if "TrainingInstanceType" in ln else ln for ln in lines]
        if edited == lines:
            raise walk.fail(
                f"no TrainingInstanceType line with {EDIT_FROM} in {EDIT_FILE} (the model build seed code)"
            )
        path.write_text("".join(edited))
        made.known_builds = {e["pipelineExecutionId"] for e in _execution_ids(walk, names.build_pipeline)}
        made.models_before = _model_count(walk, names.model_package_group)
        walk.git("commit", "-am", f"Train on {EDIT_TO}", cwd=clone)
        walk.git("push", "origin", "HEAD", cwd=clone)
        walk.note(f"pushed to {BUILD_REPO} main")


def watch_model_build(walk: Walkthrough, made: Made) -> None:
    names = made.names(walk)
    group = names.model_package_group
    with walk.step(
        "watch the build pipeline run the SageMaker pipeline until a new model version is registered"
    ):
        _follow_execution(
            walk, names.build_pipeline, made.known_builds, "the model build pipeline run started by the push"
        )
        count = walk.wait(
            "a new model version",
            lambda: _model_count(walk, group) if _model_count(walk, group) > made.models_before else None,
            _missing_runtime("registering a model version (SageMaker pipeline RegisterModel step)"),
            timeout=60,
        )
        definition = walk.client("sagemaker").describe_pipeline(PipelineName=names.sagemaker_pipeline)[
            "PipelineDefinition"
        ]
        parameters = {p["Name"]: p.get("DefaultValue") for p in json.loads(definition).get("Parameters", [])}
        if parameters.get("TrainingInstanceType") != EDIT_TO:
            raise walk.fail(
                f"the pipeline that ran trains on {parameters.get('TrainingInstanceType')}, not {EDIT_TO}"
            )
        walk.note(f"model versions: {count}; the pipeline that ran trains on {EDIT_TO}")


def step4_approve(walk: Walkthrough, made: Made) -> None:
    names = made.names(walk)
    with walk.step("step 4: approve the new model version"):
        made.known_deploys = _settled_deploys(walk, names)
        approved = walk.sm("model", "approve", walk.result.project, identity=made.scientist)
        walk.note(f"version {approved['version']}: {approved['before']} -> Approved")
        walk.wait(
            "the approval's deployment",
            lambda: len(_execution_ids(walk, names.deploy_pipeline)) > len(made.known_deploys) or None,
            _missing_runtime("the deployment an approval starts (EventBridge rule)"),
            timeout=60,
        )


def _settled_deploys(walk: Walkthrough, names: Names) -> set[str]:
    """The deploy pipeline's runs so far, once none runs: the ones creation and seeding started failed (no
    model was approved yet), and a version pending approval started none, so no staging stack exists."""

    def settled() -> list[dict[str, Any]] | None:
        runs = _execution_ids(walk, names.deploy_pipeline)
        return runs if runs and all(e["status"] != "InProgress" for e in runs) else None

    runs = walk.wait(
        "the deploy pipeline's first runs to end",
        settled,
        _missing_runtime("the deploy pipeline's runs"),
        300,
    )
    if any(e["status"] == "Succeeded" for e in runs) or _stack_status(walk, names.deploy_stack("staging")):
        raise walk.fail(f"the deploy pipeline deployed before any approval: {runs}")
    return {e["pipelineExecutionId"] for e in runs}


def watch_staging(walk: Walkthrough, made: Made) -> None:
    names = made.names(walk)
    deploy_pipeline = names.deploy_pipeline
    with walk.step("watch the staging stack appear and its test pass"):

        def staging_tested() -> bool | None:
            for execution in _execution_ids(walk, deploy_pipeline):
                if execution["pipelineExecutionId"] not in made.known_deploys and execution["status"] in {
                    "Failed",
                    "Stopped",
                }:
                    raise walk.fail(f"the deploy pipeline failed{_failed_action(walk, deploy_pipeline)}")
            waiting = (
                _action_status(walk, deploy_pipeline, c.STAGING_STAGE, c.APPROVAL_ACTION) == "InProgress"
            )
            tested = (
                _action_status(walk, deploy_pipeline, c.STAGING_STAGE, c.STAGING_TEST_ACTION) == "Succeeded"
            )
            return True if waiting and tested else None

        walk.wait(
            "the staging deployment and its test", staging_tested, _missing_runtime("the staging deployment")
        )
        runs = _execution_ids(walk, deploy_pipeline)
        new = [e for e in runs if e["pipelineExecutionId"] not in made.known_deploys]
        staging, prod = names.deploy_stack("staging"), names.deploy_stack("prod")
        if len(new) != 1 or new[0]["status"] != "InProgress":
            raise walk.fail(f"one approval should start exactly one deployment, waiting now; runs: {new}")
        if _stack_status(walk, staging) != "CREATE_COMPLETE" or _stack_status(walk, prod):
            raise walk.fail(
                f"{staging} is {_stack_status(walk, staging)}, {prod} {_stack_status(walk, prod)}"
            )
        walk.note(f"{staging}: CREATE_COMPLETE; TestStaging Succeeded; waiting for approval")
        endpoint = names.endpoint("staging")
        answers = walk.invoke_endpoint(endpoint, _sample_rows(3), identity=made.scientist)
        if len(answers) != 3:
            raise walk.fail(f"{endpoint} answered {answers!r} to 3 rows")
        walk.note(f"the AWS CLI invoked {endpoint}: {', '.join(answers)}")


def _sample_rows(count: int) -> str:
    """The deploy seed's sample rows without their label, as a client sends them."""
    rows = (ROOT / "seedcode" / "modeldeploy" / "test" / "abalone-sample.csv").read_text().splitlines()
    return "\n".join(row.partition(",")[2] for row in rows[:count])


def step5_promote(walk: Walkthrough, made: Made) -> None:
    with walk.step("step 5: promote to production"):
        # As the admin: approving a CodePipeline stage is no SageMaker action, and the Studio role's
        # AmazonSageMakerFullAccess does not allow it (the walkthrough approves in the CodePipeline console).
        walk.sm("deploy", "promote", walk.result.project)


def watch_prod(walk: Walkthrough, made: Made) -> None:
    names = made.names(walk)
    with walk.step("watch the prod stack appear"):
        _follow_execution(walk, names.deploy_pipeline, made.known_deploys, "the deployment to production")
        prod, endpoint = names.deploy_stack("prod"), names.endpoint("prod")
        status = walk.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
        if _stack_status(walk, prod) != "CREATE_COMPLETE" or status != "InService":
            raise walk.fail(f"{prod} is {_stack_status(walk, prod)} and {endpoint} {status}")
        walk.note(f"{prod}: CREATE_COMPLETE; {endpoint} InService")


def project_status(walk: Walkthrough, made: Made) -> None:
    name, result = walk.result.project, walk.result
    with walk.step("project status"):
        status = walk.sm("project", "status", name)
        for endpoint in status["endpoints"]:
            walk.note(
                f"endpoint {endpoint['endpoint']} ({endpoint['stage']}): {endpoint['instances']} x "
                f"{endpoint['instance_type']}, ${endpoint['hourly_usd']}/hour"
            )
        walk.note(f"total ${status['hourly_cost_usd']}/hour ({status['price_source']})")
        result.created = inventory(walk.client, name, result.project_id, made.project_stacks)


def step6_delete(walk: Walkthrough, made: Made) -> None:
    name = walk.result.project
    with walk.step("step 6: delete the project and everything it made"):
        planned = walk.sm("project", "delete", name, "--dry-run")
        done = walk.sm("project", "delete", name, "--yes")
        for row in done:
            walk.note(f"{row['action']} {row['kind']} {row['name']}")
        if [(r["kind"], r["name"]) for r in done] != [(r["kind"], r["name"]) for r in planned]:
            raise walk.fail(f"--dry-run planned {planned} but the delete did {done}")


def nothing_left(walk: Walkthrough, made: Made) -> None:
    result = walk.result
    with walk.step("check that nothing of the project is left"):

        def gone() -> bool:
            result.remaining = inventory(walk.client, result.project, result.project_id, made.project_stacks)
            return not leftovers(result.remaining)

        try:  # deletions the stand-in finishes in the background get 60 s
            walk.wait("the project's deletions to finish", lambda: gone() or None, "", timeout=60)
        except DemoFailed as error:
            left = leftovers(result.remaining)
            raise walk.fail(f"left behind after delete: {left} ({error})") from None
        walk.note("nothing left")


STEPS = (
    account_setup,
    bootstrap,
    step1_connection,
    repositories,
    register,
    preflight,
    step2_create_project,
    first_model_build,
    step3_edit_and_push,
    watch_model_build,
    step4_approve,
    watch_staging,
    step5_promote,
    watch_prod,
    project_status,
    step6_delete,
    nothing_left,
)


def walkthrough(walk: Walkthrough) -> DemoResult:
    """Every step in order; the table of what was created and removed."""
    made = Made()
    for step in STEPS:
        step(walk, made)
    walk.result.table = make_table(walk.result)
    return walk.result


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


def run(
    project: str = "abalone", timeout: float = 900.0, out: TextIO | None = None, log_path: Path | None = None
) -> DemoResult:
    """Start the stand-in and run the walkthrough; returns the table of what was created and removed."""
    out = out or sys.stdout
    log_path = log_path or ROOT / "build" / "demo" / "standin.log"
    began = time.perf_counter()
    with started(log_path) as (standin, workdir):
        print(f"[ 0] the local AWS stand-in at {standin.endpoint_url}; its log: {log_path}", file=out)
        walk = Walkthrough(standin, workdir, out, timeout, project)
        walk.result.steps.append(("start the stand-in", time.perf_counter() - began))
        try:
            return walkthrough(walk)
        except DemoFailed as error:
            builds = dump_failed_builds(standin, log_path.parent / "failed-builds.log")
            where = f"the stand-in's log: {log_path}" + (f"; failed builds' logs: {builds}" if builds else "")
            raise DemoFailed(error.step, f"{error} ({where})") from error
