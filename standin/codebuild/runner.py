"""CodeBuild's build runner: a buildspec's phases really run in a subprocess, the way CodeBuild's agent does.

``BuildRunner`` runs a buildspec (version 0.2) closely enough for the walkthrough:

- phases ``install``, ``pre_build``, ``build``, ``post_build`` in that order, each command in its own
  ``bash -e`` whose exported variables and working directory carry over to the next command (one shell);
  a failing ``install``/``pre_build`` skips the later phases, a failing ``build`` still runs ``post_build``;
- the primary source in ``CODEBUILD_SRC_DIR``, secondary sources in ``CODEBUILD_SRC_DIR_<identifier>``;
- the environment and the virtual environment of ``standin.codebuild.environments``;
- ``artifacts.files`` (globs, ``**``), ``base-directory``, ``discard-paths`` and ``secondary-artifacts``.

Every build is recorded (status, phases, log) so ``batch_get_builds`` shows it, whether it came from the API
(``start_build``) or from the Python API ``BuildRunner.run`` that the stand-in's CodePipeline calls directly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from standin import changes, footprints
from standin.codebuild.builds import BuildResult, Phase, now, stamp
from standin.codebuild.buildspec import PHASES, BuildspecError, collect_artifacts, parse_buildspec
from standin.codebuild.environments import VenvCache, build_environment, declared_names, requirements_hash

DEFAULT_TIMEOUT_MINUTES = 60


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
        # Kept across projects and stand-in runs (the user's cache) unless a folder is given.
        self.cache = VenvCache(Path(cache_dir) if cache_dir else None)
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
            self._log(build, f"[Container] {stamp()} Build failed in the stand-in's runner: {error}\n")
            build.status = "FAULT"
        finally:
            build.end_time = now()
            build.current_phase = "COMPLETED"
            build.phases.append(Phase("COMPLETED", build.end_time))
            self._publish_log(build)
            build.done.set()
            changes.notify()
        return build

    def _publish_log(self, build: BuildResult) -> None:
        """Copy the log to (moto's) CloudWatch Logs, group ``/aws/codebuild/<project>``, as AWS does."""
        try:
            lines = [line for line in build.log_text.splitlines() if line.strip()]
            group, stream = f"/aws/codebuild/{build.project_name}", build.build_id.split(":", 1)[1]
            footprints.log_stream(self.account_id, build.region, group, stream, lines)
        except Exception as error:  # noqa: BLE001 - the local log file stays the record
            self._log(
                build, f"[Container] {stamp()} (stand-in: log not copied to CloudWatch Logs: {error})\n"
            )

    def start(self, project: Mapping[str, Any], **kwargs: Any) -> BuildResult:
        """Like ``run`` in a background thread; returns the build record at once."""
        build = self.new_build(str(project["name"]), kwargs.pop("region", None))
        prepare: Callable[[BuildResult], dict[str, Any]] | None = kwargs.pop("prepare", None)

        def target() -> None:
            try:
                extra = prepare(build) if prepare else {}
            except Exception as error:  # noqa: BLE001 - e.g. a missing S3 source: the build fails, logged
                self._log(build, f"[Container] {stamp()} CLIENT_ERROR: {error}\n")
                build.phases.append(
                    Phase(
                        "DOWNLOAD_SOURCE",
                        now(),
                        now(),
                        "CLIENT_ERROR",
                        [{"statusCode": "CLIENT_ERROR", "message": str(error)}],
                    )
                )
                build.status = "FAILED"
                build.end_time = now()
                build.current_phase = "COMPLETED"
                build.done.set()
                changes.notify()
                return
            self.run(project, build=build, **{**kwargs, **extra})

        threading.Thread(target=target, name=f"build-{build.build_id}", daemon=True).start()
        return build

    def _log(self, build: BuildResult, text: str) -> None:
        with build.log_path.open("a") as log:
            log.write(text)

    def _phase(self, build: BuildResult, name: str) -> Phase:
        phase = Phase(name, now())
        build.phases.append(phase)
        build.current_phase = name
        self._log(build, f"\n[Container] {stamp()} Entering phase {name}\n")
        changes.notify()
        return phase

    def _end_phase(self, build: BuildResult, phase: Phase, ok: bool, message: str = "") -> None:
        phase.end = now()
        phase.status = "SUCCEEDED" if ok else ("STOPPED" if build.stop_requested else "FAILED")
        if not ok:
            phase.contexts = [{"statusCode": "COMMAND_EXECUTION_ERROR", "message": message}]
        self._log(build, f"[Container] {stamp()} Phase complete: {phase.phase_type} State: {phase.status}\n")
        if message:
            self._log(
                build,
                f"[Container] {stamp()} Phase context status code: COMMAND_EXECUTION_ERROR "
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
        venv = self.cache.checkout(
            requirements_hash(src_dir, *secondary_dirs.values()), build.work_dir / "venv"
        )
        home = build.work_dir / "home"
        home.mkdir()
        env = build_environment(
            self.env,
            self.cache.pip_cache,
            build,
            project,
            spec,
            src_dir,
            secondary_dirs,
            env_overrides,
            venv,
            home,
        )
        build.environment_variables = {
            k: v for k, v in env.items() if k in declared_names(project, spec, env_overrides)
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

    def _command(
        self, build: BuildResult, command: str, env: dict[str, str], cwd: Path, deadline: float
    ) -> tuple[bool, dict[str, str], Path, str]:
        command = command.rstrip()
        self._log(build, f"[Container] {stamp()} Running command {command}\n")
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
            if build.stop_requested:  # StopBuild came before the command started: it found no process
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 15)
            try:
                code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 15)
                process.wait()
                self._log(build, f"\n[Container] {stamp()} Build timed out\n")
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
                f"\n[Container] {stamp()} Command did not exit successfully {command} exit status {code}\n",
            )
            return (
                False,
                new_env,
                new_cwd,
                f"Error while executing command: {command}. Reason: exit status {code}",
            )
        return True, new_env, new_cwd, ""
