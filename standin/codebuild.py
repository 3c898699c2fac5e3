"""CodeBuild builds that really run: a buildspec's phases in a subprocess, behind the CodeBuild API.

``BuildRunner`` runs a buildspec (version 0.2) the way CodeBuild's agent does, closely enough for the
walkthrough:

- phases ``install``, ``pre_build``, ``build``, ``post_build`` in that order, each command in its own
  ``bash -e`` whose exported variables and working directory carry over to the next command (one shell);
  a failing ``install``/``pre_build`` skips the later phases, a failing ``build`` still runs ``post_build``;
- the primary source in ``CODEBUILD_SRC_DIR``, secondary sources in ``CODEBUILD_SRC_DIR_<identifier>``;
- the environment: a clean base (no variable of the calling process leaks in, so never the real ``HOME``
  or ``GIT_CONFIG_GLOBAL``), the stand-in's ``.env``, the project's variables, ``env.variables`` of the
  buildspec, the call's overrides, ``CODEBUILD_*`` variables, and a fresh ``HOME`` per build;
- ``python3``/``pip`` from a virtual environment made once per requirements hash (the hash of the sources'
  ``requirements*.txt``, ``setup.py``, ``setup.cfg``, ``pyproject.toml``) that sees the stand-in's own
  packages (the SageMaker SDK, boto3, the AWS CLI) through a ``.pth`` file, so ``pip install .`` of a seed
  finds its dependencies already there and the second build with the same requirements reuses the first's;
- ``artifacts.files`` (globs, ``**``), ``base-directory``, ``discard-paths`` and ``secondary-artifacts``.

Every build is recorded (status, phases, log) so ``batch_get_builds`` shows it, whether it came from the API
(``start_build``) or from the Python API ``BuildRunner.run`` that the stand-in's CodePipeline calls directly.
"""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from standin.dispatch import AwsError, Context, on_reset, operation

PHASES = ("install", "pre_build", "build", "post_build")
REQUIREMENT_FILES = ("requirements.txt", "setup.py", "setup.cfg", "pyproject.toml")
# Variables of the calling process a build may see; everything else comes from the stand-in and the project.
PASSED_THROUGH = ("LANG", "LC_ALL", "TZ", "TMPDIR")
DEFAULT_TIMEOUT_MINUTES = 60


class BuildspecError(ValueError):
    """A buildspec that cannot run; the message names the field and what to change."""


@dataclass
class Phase:
    phase_type: str
    start: datetime.datetime
    end: datetime.datetime | None = None
    status: str | None = None
    contexts: list[dict[str, str]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"phaseType": self.phase_type, "startTime": self.start}
        if self.end is not None:
            data["endTime"] = self.end
            data["durationInSeconds"] = int((self.end - self.start).total_seconds())
        if self.status is not None:
            data["phaseStatus"] = self.status
        if self.contexts:
            data["contexts"] = self.contexts
        return data


@dataclass
class BuildResult:
    """One build: what ``batch_get_builds`` reports, plus local paths for the stand-in's own callers."""

    build_id: str
    arn: str
    project_name: str
    status: str = "IN_PROGRESS"
    current_phase: str = "SUBMITTED"
    phases: list[Phase] = field(default_factory=list)
    start_time: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    end_time: datetime.datetime | None = None
    work_dir: Path = Path()
    log_path: Path = Path()
    artifacts: Path | None = None
    secondary_artifacts: dict[str, Path] = field(default_factory=dict)
    environment_variables: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    secondary_sources: list[dict[str, Any]] = field(default_factory=list)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    build_number: int = 1
    done: threading.Event = field(default_factory=threading.Event)
    stop_requested: bool = False
    process: subprocess.Popen | None = None

    @property
    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait(self, timeout: float | None = None) -> BuildResult:
        if not self.done.wait(timeout):
            raise TimeoutError(f"build {self.build_id} still {self.status} after {timeout} s")
        return self

    def to_api(self) -> dict[str, Any]:
        group = f"/aws/codebuild/{self.project_name}"
        stream = self.build_id.split(":", 1)[1]
        console = (
            f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#logEvent:group={group};stream={stream}"
        )
        data: dict[str, Any] = {
            "id": self.build_id,
            "arn": self.arn,
            "buildNumber": self.build_number,
            "startTime": self.start_time,
            "currentPhase": self.current_phase,
            "buildStatus": self.status,
            "projectName": self.project_name,
            "phases": [phase.to_api() for phase in self.phases],
            "source": self.source,
            "secondarySources": self.secondary_sources,
            "environment": {
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
                "computeType": "BUILD_GENERAL1_SMALL",
                "environmentVariables": [
                    {"name": k, "value": v, "type": "PLAINTEXT"}
                    for k, v in self.environment_variables.items()
                ],
            },
            "logs": {
                "groupName": group,
                "streamName": stream,
                "deepLink": console,
                # Not what AWS puts here: the stand-in's log file, for a person reading the build locally.
                "s3DeepLink": self.log_path.as_uri() if self.log_path.is_absolute() else "",
                "cloudWatchLogsArn": (
                    f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group}:log-stream:{stream}"
                ),
            },
            "buildComplete": self.done.is_set(),
            "initiator": "standin",
        }
        if self.end_time is not None:
            data["endTime"] = self.end_time
        return data


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _stamp() -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S")


def parse_buildspec(text: str) -> dict[str, Any]:
    """Read a buildspec (YAML), checking what the runner relies on; errors name the field."""
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BuildspecError(f"buildspec: not valid YAML ({error}); fix the syntax") from error
    if not isinstance(spec, dict):
        raise BuildspecError("buildspec: expected a mapping with 'version' and 'phases'")
    if str(spec.get("version")) not in ("0.2", "0.1"):
        raise BuildspecError(f"buildspec 'version': got {spec.get('version')!r}, expected 0.2")
    phases = spec.get("phases") or {}
    if not isinstance(phases, dict):
        raise BuildspecError("buildspec 'phases': expected a mapping of phase name to {commands: [...]}")
    for name, phase in phases.items():
        if name not in PHASES:
            raise BuildspecError(f"buildspec 'phases.{name}': unknown phase; use one of {', '.join(PHASES)}")
        commands = (phase or {}).get("commands", [])
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise BuildspecError(f"buildspec 'phases.{name}.commands': expected a list of strings")
    variables = (spec.get("env") or {}).get("variables") or {}
    if not isinstance(variables, dict):
        raise BuildspecError("buildspec 'env.variables': expected a mapping of NAME: value")
    return spec


def requirements_hash(*folders: Path | None) -> str:
    """A hash of the requirement files found at the top of the given source folders."""
    digest = hashlib.sha256()
    for folder in folders:
        if folder is None:
            continue
        for candidate in sorted(folder.iterdir()) if folder.is_dir() else []:
            if candidate.is_file() and (
                candidate.name in REQUIREMENT_FILES or fnmatch.fnmatch(candidate.name, "requirements*.txt")
            ):
                digest.update(candidate.name.encode() + b"\0" + candidate.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class VenvCache:
    """Virtual environments by requirements hash, each seeing the stand-in's own site-packages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pip_cache = root / "pip-cache"
        self._lock = threading.Lock()

    def get(self, key: str) -> Path:
        target = self.root / f"venv-{key}"
        with self._lock:
            if (target / "bin" / "python3").exists():
                return target
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".venv-{key}-", dir=self.root))
            shutil.rmtree(staging)
            # --without-pip: pip comes from the stand-in's site-packages through the .pth file (fast).
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", str(staging)], check=True, capture_output=True
            )
            site = next((staging / "lib").glob("python3*/site-packages"))
            parents = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
            (site / "standin-base.pth").write_text("".join(f"{p}\n" for p in parents))
            python = staging / "bin" / "python"
            for name in ("pip", "pip3"):
                shim = staging / "bin" / name
                # The shim points at the final location, where the venv is moved below.
                shim.write_text(f'#!/bin/sh\nexec "{target}/bin/python" -m pip "$@"\n')
                shim.chmod(0o755)
            if not python.exists():
                raise RuntimeError(f"virtual environment at {staging} has no python")
            try:
                staging.rename(target)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
            return target


def _glob_files(base: Path, patterns: list[str]) -> list[Path]:
    found: dict[Path, None] = {}
    for pattern in patterns:
        pattern = pattern.strip().lstrip("./") if pattern.strip() not in ("", "./") else "**/*"
        if pattern.endswith("/**/*") or pattern == "**/*":
            root = base / pattern[: -len("**/*")] if pattern != "**/*" else base
            matches = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
        else:
            matches = [p for p in base.glob(pattern) if p.is_file()]
        for match in sorted(matches):
            found[match] = None
    return list(found)


def collect_artifacts(spec: dict[str, Any], src_dir: Path, out_dir: Path) -> None:
    """Copy the files ``spec`` (an ``artifacts`` section) names into ``out_dir``."""
    base = src_dir / spec.get("base-directory", ".")
    files = spec.get("files") or []
    if isinstance(files, str):
        files = [files]
    out_dir.mkdir(parents=True, exist_ok=True)
    matched = _glob_files(base, files)
    if not matched:
        raise BuildspecError(f"artifacts: no file in {base.relative_to(src_dir)} matches {files}")
    discard = str(spec.get("discard-paths", "no")).lower() in ("yes", "true")
    for path in matched:
        relative = Path(path.name) if discard else path.relative_to(base)
        destination = out_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


class BuildRunner:
    """Runs builds for one stand-in: ``run`` (blocking, Python API) and ``start`` (background thread)."""

    def __init__(
        self,
        work_root: Path,
        env: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
        account_id: str = "123456789012",
        region: str = "us-east-1",
    ) -> None:
        self.work_root = Path(work_root)
        self.env = dict(env or {})
        self.cache = VenvCache(Path(cache_dir) if cache_dir else self.work_root / "build-cache")
        self.account_id = account_id
        self.region = self.env.get("AWS_REGION", region)
        self.builds: dict[str, BuildResult] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    # --- records ----------------------------------------------------------------------------------------

    def new_build(self, project_name: str, region: str | None = None) -> BuildResult:
        region = region or self.region
        build_uuid = str(uuid.uuid4())
        build_id = f"{project_name}:{build_uuid}"
        work_dir = self.work_root / "builds" / build_uuid
        work_dir.mkdir(parents=True)
        with self._lock:
            number = self._counters.get(project_name, 0) + 1
            self._counters[project_name] = number
            build = BuildResult(
                build_id=build_id,
                arn=f"arn:aws:codebuild:{region}:{self.account_id}:build/{build_id}",
                project_name=project_name,
                work_dir=work_dir,
                log_path=work_dir / "build.log",
                region=region,
                account_id=self.account_id,
                build_number=number,
            )
            self.builds[build_id] = build
        build.phases.append(Phase("SUBMITTED", build.start_time, build.start_time, "SUCCEEDED"))
        return build

    def builds_for_project(self, project_name: str) -> list[str]:
        with self._lock:
            found = [b for b in self.builds.values() if b.project_name == project_name]
        return [b.build_id for b in sorted(found, key=lambda b: b.start_time, reverse=True)]

    def clear(self) -> None:
        with self._lock:
            self.builds.clear()
            self._counters.clear()

    def stop(self, build_id: str) -> BuildResult:
        build = self.builds[build_id]
        build.stop_requested = True
        process = build.process
        if process is not None and process.poll() is None:
            # The command runs in its own session: stop it and everything it started.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
        return build

    # --- running -----------------------------------------------------------------------------------------

    def run(
        self,
        project: Mapping[str, Any],
        primary_source: Path | None = None,
        secondary_sources: Mapping[str, Path] | None = None,
        env_overrides: Mapping[str, str] | None = None,
        buildspec: str | None = None,
        build: BuildResult | None = None,
    ) -> BuildResult:
        """Run one build to the end. ``project`` is the API shape (``batch_get_projects``): name, source
        (``buildspec`` inline or a path in the source), environment.environmentVariables, timeoutInMinutes."""
        build = build or self.new_build(str(project["name"]))
        try:
            self._run(build, project, primary_source, dict(secondary_sources or {}), env_overrides, buildspec)
        except Exception as error:  # noqa: BLE001 - any runner fault is the build's failure, logged
            self._log(build, f"[Container] {_stamp()} Build failed in the stand-in's runner: {error}\n")
            build.status = "FAULT"
        finally:
            build.end_time = _now()
            build.current_phase = "COMPLETED"
            build.phases.append(Phase("COMPLETED", build.end_time))
            self._publish_log(build)
            build.done.set()
        return build

    def _publish_log(self, build: BuildResult) -> None:
        """Copy the log to (moto's) CloudWatch Logs, group ``/aws/codebuild/<project>``, as AWS does."""
        try:
            from moto.backends import get_backend

            logs = get_backend("logs")[self.account_id][build.region]  # type: ignore[call-overload]
            group, stream = f"/aws/codebuild/{build.project_name}", build.build_id.split(":", 1)[1]
            if group not in logs.groups:
                logs.create_log_group(group, {})
            logs.create_log_stream(group, stream)
            stamp = int(time.time() * 1000)
            lines = [line for line in build.log_text.splitlines() if line.strip()]
            for start in range(0, len(lines), 5000):
                events = [{"timestamp": stamp, "message": line} for line in lines[start : start + 5000]]
                logs.put_log_events(group, stream, events)
        except Exception as error:  # noqa: BLE001 - the local log file stays the record
            self._log(
                build, f"[Container] {_stamp()} (stand-in: log not copied to CloudWatch Logs: {error})\n"
            )

    def start(self, project: Mapping[str, Any], **kwargs: Any) -> BuildResult:
        """Like ``run`` in a background thread; returns the build record at once."""
        build = self.new_build(str(project["name"]), kwargs.pop("region", None))
        prepare: Callable[[BuildResult], dict[str, Any]] | None = kwargs.pop("prepare", None)

        def target() -> None:
            try:
                extra = prepare(build) if prepare else {}
            except Exception as error:  # noqa: BLE001 - e.g. a missing S3 source: the build fails, logged
                self._log(build, f"[Container] {_stamp()} CLIENT_ERROR: {error}\n")
                build.phases.append(
                    Phase(
                        "DOWNLOAD_SOURCE",
                        _now(),
                        _now(),
                        "CLIENT_ERROR",
                        [{"statusCode": "CLIENT_ERROR", "message": str(error)}],
                    )
                )
                build.status = "FAILED"
                build.end_time = _now()
                build.current_phase = "COMPLETED"
                build.done.set()
                return
            self.run(project, build=build, **{**kwargs, **extra})

        threading.Thread(target=target, name=f"build-{build.build_id}", daemon=True).start()
        return build

    def _log(self, build: BuildResult, text: str) -> None:
        with build.log_path.open("a") as log:
            log.write(text)

    def _phase(self, build: BuildResult, name: str) -> Phase:
        phase = Phase(name, _now())
        build.phases.append(phase)
        build.current_phase = name
        self._log(build, f"\n[Container] {_stamp()} Entering phase {name}\n")
        return phase

    def _end_phase(self, build: BuildResult, phase: Phase, ok: bool, message: str = "") -> None:
        phase.end = _now()
        phase.status = "SUCCEEDED" if ok else ("STOPPED" if build.stop_requested else "FAILED")
        if not ok:
            phase.contexts = [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": message}]
        self._log(build, f"[Container] {_stamp()} Phase complete: {phase.phase_type} State: {phase.status}\n")
        if message:
            self._log(
                build,
                f"[Container] {_stamp()} Phase context status code: COMMAND_EXECUTION_ERROR "
                f"Message: {message}\n",
            )

    def _run(
        self,
        build: BuildResult,
        project: Mapping[str, Any],
        primary_source: Path | None,
        secondary_sources: dict[str, Path],
        env_overrides: Mapping[str, str] | None,
        buildspec: str | None,
    ) -> None:
        src_root = build.work_dir / "src"
        src_dir = src_root / "primary"
        phase = self._phase(build, "DOWNLOAD_SOURCE")
        if primary_source is not None:
            shutil.copytree(primary_source, src_dir, symlinks=True)
        else:
            src_dir.mkdir(parents=True)
        secondary_dirs: dict[str, Path] = {}
        for identifier, folder in secondary_sources.items():
            secondary_dirs[identifier] = src_root / identifier
            shutil.copytree(folder, secondary_dirs[identifier], symlinks=True)
        source = dict(project.get("source") or {})
        build.source = source
        build.secondary_sources = [{"sourceIdentifier": k, "type": "S3"} for k in secondary_dirs]
        text = buildspec or source.get("buildspec") or "buildspec.yml"
        if "\n" not in text.strip() and not text.strip().startswith("version"):
            path = src_dir / text
            if not path.is_file():
                message = f"YAML_FILE_ERROR: buildspec file {text} not found in the primary source"
                self._end_phase(build, phase, False, message)
                build.status = "FAILED"
                return
            text = path.read_text()
        try:
            spec = parse_buildspec(text)
        except BuildspecError as error:
            self._end_phase(build, phase, False, f"YAML_FILE_ERROR: {error}")
            build.status = "FAILED"
            return
        self._end_phase(build, phase, True)

        phase = self._phase(build, "PROVISIONING")
        venv = self.cache.get(requirements_hash(src_dir, *secondary_dirs.values()))
        home = build.work_dir / "home"
        home.mkdir()
        env = self._environment(build, project, spec, src_dir, secondary_dirs, env_overrides, venv, home)
        build.environment_variables = {
            k: v for k, v in env.items() if k in self._declared_names(project, spec, env_overrides)
        }
        self._end_phase(build, phase, True)

        timeout = int(project.get("timeoutInMinutes") or DEFAULT_TIMEOUT_MINUTES) * 60
        deadline = time.monotonic() + timeout
        cwd = src_dir
        failed_at: str | None = None
        for name in PHASES:
            commands = ((spec.get("phases") or {}).get(name) or {}).get("commands") or []
            if failed_at in ("install", "pre_build") or (failed_at == "build" and name != "post_build"):
                continue
            if failed_at is None and name == "post_build" and build.stop_requested:
                continue
            phase = self._phase(build, name.upper())
            ok, message = True, ""
            for command in commands:
                if build.stop_requested:
                    ok, message = False, "Build stopped"
                    break
                ok, env, cwd, message = self._command(build, command, env, cwd, deadline)
                if not ok:
                    break
            self._end_phase(build, phase, ok, message)
            if not ok and failed_at is None:
                failed_at = name

        artifacts_ok = True
        if failed_at is None and (spec.get("artifacts") or {}):
            phase = self._phase(build, "UPLOAD_ARTIFACTS")
            try:
                section = dict(spec["artifacts"])
                secondary = section.pop("secondary-artifacts", None) or {}
                if section.get("files"):
                    build.artifacts = build.work_dir / "artifacts" / "primary"
                    collect_artifacts(section, src_dir, build.artifacts)
                for identifier, sub in secondary.items():
                    target = build.work_dir / "artifacts" / identifier
                    collect_artifacts(sub, src_dir, target)
                    build.secondary_artifacts[identifier] = target
                self._end_phase(build, phase, True)
            except BuildspecError as error:
                artifacts_ok = False
                self._end_phase(build, phase, False, f"CLIENT_ERROR: {error}")
        phase = self._phase(build, "FINALIZING")
        self._end_phase(build, phase, True)
        if build.stop_requested:
            build.status = "STOPPED"
        elif failed_at is not None:
            build.status = "TIMED_OUT" if time.monotonic() > deadline else "FAILED"
        else:
            build.status = "SUCCEEDED" if artifacts_ok else "FAILED"

    @staticmethod
    def _declared_names(
        project: Mapping[str, Any], spec: dict[str, Any], overrides: Mapping[str, str] | None
    ) -> set[str]:
        names = {v["name"] for v in (project.get("environment") or {}).get("environmentVariables") or []}
        names |= set(((spec.get("env") or {}).get("variables") or {}).keys())
        return names | set(overrides or {})

    def _environment(
        self,
        build: BuildResult,
        project: Mapping[str, Any],
        spec: dict[str, Any],
        src_dir: Path,
        secondary_dirs: dict[str, Path],
        overrides: Mapping[str, str] | None,
        venv: Path,
        home: Path,
    ) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        env.update(self.env)
        own_bin = str(Path(sys.executable).parent)
        env.update(
            {
                "HOME": str(home),
                "PATH": os.pathsep.join([str(venv / "bin"), own_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
                "VIRTUAL_ENV": str(venv),
                "PIP_CACHE_DIR": str(self.cache.pip_cache),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                # Offline like the rest of the stand-in: what a build installs must already be in the
                # stand-in's environment (SageMaker SDK, boto3, setuptools); `pip install .` then needs no
                # index and no isolated build environment. (missing package: pip's error).
                "PIP_NO_INDEX": "1",
                "PIP_NO_BUILD_ISOLATION": "0",
                "PYTHONDONTWRITEBYTECODE": "1",
                "CODEBUILD_BUILD_ID": build.build_id,
                "CODEBUILD_BUILD_ARN": build.arn,
                "CODEBUILD_BUILD_NUMBER": str(build.build_number),
                "CODEBUILD_SRC_DIR": str(src_dir),
                "CODEBUILD_INITIATOR": "standin",
                "CODEBUILD_BUILD_SUCCEEDING": "1",
                "AWS_REGION": build.region,
                "AWS_DEFAULT_REGION": build.region,
            }
        )
        for identifier, folder in secondary_dirs.items():
            env[f"CODEBUILD_SRC_DIR_{identifier}"] = str(folder)
        for variable in (project.get("environment") or {}).get("environmentVariables") or []:
            env[variable["name"]] = str(variable.get("value", ""))
        for name, value in ((spec.get("env") or {}).get("variables") or {}).items():
            env[str(name)] = "" if value is None else str(value)
        env.update({k: str(v) for k, v in (overrides or {}).items()})
        return env

    def _command(
        self, build: BuildResult, command: str, env: dict[str, str], cwd: Path, deadline: float
    ) -> tuple[bool, dict[str, str], Path, str]:
        command = command.rstrip()
        self._log(build, f"[Container] {_stamp()} Running command {command}\n")
        state = build.work_dir / "state"
        state.mkdir(exist_ok=True)
        script = state / "command.sh"
        env_out, cwd_out = state / "env", state / "cwd"
        for leftover in (env_out, cwd_out):
            leftover.unlink(missing_ok=True)
        # The trap dumps the environment and directory whether the command succeeds or not, so the next
        # command (post_build after a failed build) starts where this one left off.
        script.write_text(f'trap \'env -0 > "{env_out}"; pwd > "{cwd_out}"\' EXIT\nset -e\n{command}\n')
        with build.log_path.open("ab") as log:
            process = subprocess.Popen(
                ["bash", str(script)],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            build.process = process
            try:
                code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 15)
                process.wait()
                self._log(build, f"\n[Container] {_stamp()} Build timed out\n")
                return False, env, cwd, f"Error while executing command: {command}. Reason: timed out"
            finally:
                build.process = None
        new_env, new_cwd = env, cwd
        if env_out.exists():
            pairs = [
                item.split("=", 1)
                for item in env_out.read_bytes().decode(errors="replace").split("\0")
                if "=" in item
            ]
            new_env = {k: v for k, v in pairs if k not in ("_", "SHLVL", "OLDPWD", "PWD")}
        if cwd_out.exists() and Path(cwd_out.read_text().strip()).is_dir():
            new_cwd = Path(cwd_out.read_text().strip())
        if code != 0:
            self._log(
                build,
                f"\n[Container] {_stamp()} Command did not exit successfully {command} exit status {code}\n",
            )
            return (
                False,
                new_env,
                new_cwd,
                f"Error while executing command: {command}. Reason: exit status {code}",
            )
        return True, new_env, new_cwd, ""


# --- one runner per stand-in -------------------------------------------------------------------------------

_RUNNERS: dict[int, BuildRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner_for(standin: Any) -> BuildRunner:
    """The ``BuildRunner`` of a stand-in (made on first use; its work files live in the stand-in's state)."""
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(id(standin))
        if runner is None:
            state = getattr(standin, "state_dir", None) or tempfile.mkdtemp(prefix="standin-builds-")
            cache = os.environ.get("STANDIN_BUILD_CACHE")
            runner = BuildRunner(
                Path(state) / "codebuild",
                env=dict(getattr(standin, "env", {}) or {}),
                cache_dir=Path(cache) if cache else None,
                account_id=getattr(standin, "account_id", "123456789012"),
                region=getattr(standin, "region", "us-east-1"),
            )
            _RUNNERS[id(standin)] = runner
        return runner


@on_reset
def _forget_builds() -> None:
    with _RUNNERS_LOCK:
        for runner in _RUNNERS.values():
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
    from moto.backends import get_backend

    bucket, _, key = location.removeprefix("s3://").removeprefix("arn:aws:s3:::").partition("/")
    s3 = get_backend("s3")[ctx.account_id]["aws"]  # type: ignore[call-overload]
    target.mkdir(parents=True, exist_ok=True)
    try:
        if key.endswith("/") or not key:
            for obj in s3.list_objects(s3.get_bucket(bucket), prefix=key, delimiter=None)[0]:
                path = target / obj.name[len(key) :]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(obj.value)
            return target
        found = s3.get_object(bucket, key, version_id=version) if version else s3.get_object(bucket, key)
        if found is None:
            raise KeyError(f"no version {version}")
        value = found.value
    except Exception as error:  # noqa: BLE001 - moto raises several kinds; all mean "cannot read the source"
        raise RuntimeError(f"cannot download source s3://{bucket}/{key}: {error}") from error
    if zipfile.is_zipfile(io.BytesIO(value)):
        with zipfile.ZipFile(io.BytesIO(value)) as archive:
            for info in archive.infolist():
                archive.extract(info, target)
                mode = info.external_attr >> 16
                if mode and not info.is_dir():
                    (target / info.filename).chmod(mode & 0o777 or 0o644)
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
