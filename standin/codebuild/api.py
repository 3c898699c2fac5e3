"""The CodeBuild API as the stand-in answers it: StartBuild, BatchGetBuilds, ListBuilds, ListBuildsForProject,
StopBuild.

Projects are moto's (``codebuild_projects``); builds run on the stand-in's ``BuildRunner``, one per stand-in.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from moto.backends import get_backend

from standin import engines
from standin.codebuild.builds import BuildResult
from standin.codebuild.runner import BuildRunner
from standin.dispatch import AwsError, Context, operation
from standin.ziputil import extract_zip

# --- one runner per stand-in -------------------------------------------------------------------------------


def runner_for(standin: Any) -> BuildRunner:
    """The ``BuildRunner`` of a stand-in (made on first use; its work files live in the stand-in's state)."""
    return engines.engine_state(standin, "codebuild_runner", lambda: _new_runner(standin))


def _new_runner(standin: Any) -> BuildRunner:
    state = getattr(standin, "state_dir", None) or tempfile.mkdtemp(prefix="standin-builds-")
    return BuildRunner(
        Path(state) / "codebuild",
        env=dict(getattr(standin, "env", {}) or {}),
        account_id=getattr(standin, "account_id", "123456789012"),
        region=getattr(standin, "region", "us-east-1"),
    )


@engines.stops_with("codebuild_runner")
def _stop_builds(runner: BuildRunner) -> None:
    """The stand-in resets or stops: so do its running builds (their commands and whatever they started),
    and their records go."""
    for build_id, build in list(runner.builds.items()):
        if not build.done.is_set():
            runner.stop(build_id)
    runner.clear()


# --- the CodeBuild API -------------------------------------------------------------------------------------


def _project(ctx: Context, name: str) -> dict[str, Any]:
    backend = ctx.backend("codebuild")
    project = backend.codebuild_projects.get(name.rsplit("/", 1)[-1])
    if project is None:
        raise AwsError(
            "ResourceNotFoundException",
            f"Project cannot be found: arn:aws:codebuild:{ctx.region}:{ctx.account_id}:project/{name}",
        )
    return dict(project.project_metadata)


def _download_s3_source(ctx: Context, location: str, target: Path, version: str | None = None) -> Path:
    """Fetch an S3 source (``bucket/key`` of a zip, or ``bucket/prefix/``) from moto's S3 into ``target``;
    ``version`` is StartBuild's ``sourceVersion``, which for an S3 source is the object's version id."""
    bucket, _, key = location.removeprefix("s3://").removeprefix("arn:aws:s3:::").partition("/")
    s3 = get_backend("s3")[ctx.account_id]["aws"]
    target.mkdir(parents=True, exist_ok=True)
    try:
        if key.endswith("/") or not key:
            for obj in s3.list_objects(
                s3.get_bucket(bucket), prefix=key, delimiter=None, marker=None, max_keys=None
            )[0]:
                path = target / obj.name[len(key) :]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(obj.value)
            return target
        found = s3.get_object(bucket, key, version_id=version) if version else s3.get_object(bucket, key)
        if found is None:
            raise KeyError(f"no version {version}")
        value = found.value
    except Exception as error:  # moto raises several kinds; all mean "cannot read the source"
        raise RuntimeError(f"cannot download source s3://{bucket}/{key}: {error}") from error
    if zipfile.is_zipfile(io.BytesIO(value)):
        extract_zip(value, target)
    else:
        (target / key.rsplit("/", 1)[-1]).write_bytes(value)
    return target


@operation("codebuild", "StartBuild")
def start_build(ctx: Context, params: dict) -> dict:
    project = _project(ctx, params.get("projectName", ""))
    overrides = {v["name"]: v.get("value", "") for v in params.get("environmentVariablesOverride") or []}
    source = dict(project.get("source") or {})
    if params.get("sourceTypeOverride"):
        source["type"] = params["sourceTypeOverride"]
    if params.get("sourceLocationOverride"):
        source["location"] = params["sourceLocationOverride"]
    if params.get("buildspecOverride"):
        source["buildspec"] = params["buildspecOverride"]
    project["source"] = source
    secondary = {s["sourceIdentifier"]: s for s in project.get("secondarySources") or []}
    for override in params.get("secondarySourcesOverride") or []:
        secondary[override["sourceIdentifier"]] = override
    if params.get("timeoutInMinutesOverride"):
        project["timeoutInMinutes"] = params["timeoutInMinutesOverride"]
    runner = runner_for(ctx.standin)

    def prepare(build: BuildResult) -> dict[str, Any]:
        downloads = build.work_dir / "download"
        primary = None
        if source.get("type") == "S3":
            location = source.get("location", "")
            primary = _download_s3_source(ctx, location, downloads / "primary", params.get("sourceVersion"))
        elif source.get("type") not in (None, "NO_SOURCE"):
            raise RuntimeError(
                f"source type {source.get('type')} is not supported by the stand-in's StartBuild"
            )
        others = {}
        for identifier, spec in secondary.items():
            if spec.get("type") != "S3":
                raise RuntimeError(f"secondary source {identifier}: type {spec.get('type')} is not supported")
            others[identifier] = _download_s3_source(ctx, spec.get("location", ""), downloads / identifier)
        return {"primary_source": primary, "secondary_sources": others}

    build = runner.start(project, env_overrides=overrides, prepare=prepare, region=ctx.region)
    return {"build": build.to_api()}


@operation("codebuild", "BatchGetBuilds")
def batch_get_builds(ctx: Context, params: dict) -> dict:
    runner = runner_for(ctx.standin)
    found, missing = [], []
    for build_id in params.get("ids") or []:
        build = runner.builds.get(build_id.split("build/", 1)[-1])
        if build is None:
            missing.append(build_id)
        else:
            found.append(build.to_api())
    return {"builds": found, "buildsNotFound": missing}


@operation("codebuild", "ListBuildsForProject")
def list_builds_for_project(ctx: Context, params: dict) -> dict:
    _project(ctx, params.get("projectName", ""))
    ids = runner_for(ctx.standin).builds_for_project(params["projectName"])
    if params.get("sortOrder") == "ASCENDING":
        ids.reverse()
    return {"ids": ids}


@operation("codebuild", "ListBuilds")
def list_builds(ctx: Context, params: dict) -> dict:
    runner = runner_for(ctx.standin)
    return {
        "ids": [b.build_id for b in sorted(runner.builds.values(), key=lambda b: b.start_time, reverse=True)]
    }


@operation("codebuild", "StopBuild")
def stop_build(ctx: Context, params: dict) -> dict:
    runner = runner_for(ctx.standin)
    build_id = params.get("id", "")
    if build_id not in runner.builds:
        raise AwsError("ResourceNotFoundException", f"Build {build_id} cannot be found")
    build = runner.stop(build_id)
    build.done.wait(10)
    return {"build": build.to_api()}
