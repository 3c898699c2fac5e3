"""CodePipeline's Build and Test action `CodeBuild`: the stand-in's build runner with the input artifacts as
primary (`PrimarySource`) and secondary sources, `EnvironmentVariables`, and the outputs zipped back to S3
(the first output is the primary artifact, others the secondary artifacts of the same name)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from standin.codepipeline.executions import ActionFailed, ActionRun, Execution

if TYPE_CHECKING:
    from standin.codepipeline.engine import PipelineRuntime


def codebuild_action(rt: PipelineRuntime, execution: Execution, run: ActionRun) -> None:
    from standin.codebuild import runner_for

    config = run.action.get("configuration", {})
    name = config.get("ProjectName")
    project = rt.backend("codebuild").codebuild_projects.get(name or "")
    if project is None:
        raise ActionFailed(f"configuration.ProjectName: CodeBuild project {name!r} does not exist")
    inputs = [a["name"] for a in run.action.get("inputArtifacts", [])]
    if not inputs:
        raise ActionFailed("a CodeBuild action needs at least one input artifact", "ConfigurationError")
    primary_name = config.get("PrimarySource") or inputs[0]
    if primary_name not in inputs:
        raise ActionFailed(f"configuration.PrimarySource {primary_name} is not an input artifact")
    work = rt.action_dir(execution, run)
    folders = {n: rt.get_artifact(execution, run, n, work / "in" / n) for n in inputs}
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
    runner = runner_for(rt.standin)
    build = runner.new_build(name, rt.region)
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
            f"Build terminated with state: {build.status}.{where}{context_msg}. Log: {build.log_path}\n{tail}"
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
        rt.put_artifact(execution, run, output["name"], folder)


def _failing_output(log_text: str, lines: int = 15) -> str:
    """The output just before the build's first failing command (what a person needs), else the log's end."""
    text = log_text.strip().splitlines()
    marker = next((i for i, line in enumerate(text) if "Command did not exit successfully" in line), None)
    if marker is None:
        return "\n".join(text[-lines:])
    return "\n".join(text[max(0, marker - lines) : marker + 1])
