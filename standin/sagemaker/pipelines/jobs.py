"""SageMaker processing and training jobs as a pipeline's steps run them: local subprocesses in SageMaker's
directory layout (`/opt/ml` mapped to a folder per job), inputs downloaded from S3 and outputs uploaded back.

A job's process sees only what a job container would: the variables of `PASSED_THROUGH` from the calling
process (never its tokens or credentials), the stand-in's `.env`, the job's own `Environment` and
SageMaker's `SM_*`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shlex
import string
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from standin import s3util
from standin.sagemaker.pipelines import processes
from standin.sagemaker.pipelines.definition import StepFailure, stringify
from standin.sagemaker.pipelines.records import ExecutionRecord, StepRecord, now

OPT_ML = "/opt/ml"
# Variables of the calling process a job may see (as CodeBuild's builds): a locale, a time zone, where
# programs and temporary files are. Everything else comes from the stand-in, the job and SageMaker.
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")
ClientFactory = Callable[[str], Any]


class JobRunner:
    """Runs the processing and training jobs of one execution and records them as Describe*Job shows them."""

    def __init__(
        self,
        record: ExecutionRecord,
        clients: ClientFactory,
        workdir: Path,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
        step_timeout: float = 3600.0,
        jobs: dict[str, dict[str, Any]] | None = None,
        on_job: Callable[[str, str], None] | None = None,
    ):
        self.record = record
        self.clients = clients
        self.workdir = workdir
        self.env = dict(env or {})
        self.python = python
        self.step_timeout = step_timeout
        self.jobs = jobs if jobs is not None else {}
        self.on_job = on_job or (lambda kind, job: None)

    def _job_root(self, job_name: str) -> Path:
        root = self.workdir / job_name
        (root / "opt" / "ml").mkdir(parents=True, exist_ok=True)
        return root

    def _map(self, root: Path, value: str) -> str:
        """Rewrite `/opt/ml/...` to the job's mapped folder."""
        return value.replace(OPT_ML, str(root / "opt" / "ml"))

    def _subprocess_env(self, root: Path, extra: dict[str, str]) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        env.update(self.env)
        env.update({k: self._map(root, str(v)) for k, v in extra.items()})
        env["PYTHONUNBUFFERED"] = "1"
        env["HOME"] = str(root)
        return env

    def _command(self, root: Path, words: list[str]) -> list[str]:
        mapped = [self._map(root, w) for w in words]
        if mapped and re.fullmatch(r"python(3(\.\d+)?)?", Path(mapped[0]).name):
            mapped[0] = self.python  # the stand-in's own interpreter has pandas, scikit-learn and xgboost
        return mapped

    def _execute(
        self, result: StepRecord, root: Path, command: list[str], env: dict[str, str], cwd: Path, what: str
    ) -> None:
        log_path = root / "job.log"
        result.log_path = str(log_path)
        log_path.write_bytes(f"$ {shlex.join(command)}\n".encode())
        try:
            code = processes.run(command, cwd, env, log_path, self.step_timeout, self.python)
        except FileNotFoundError as exc:
            raise StepFailure(f"ClientError: {what}: cannot run {command[0]!r}: {exc}") from exc
        except processes.JobTimeout as exc:
            raise StepFailure(
                f"{what} stopped after {self.step_timeout:.0f} s (MaxRuntimeInSeconds)"
            ) from exc
        if code != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-15:]
            raise StepFailure(
                f"AlgorithmError: {what} exited with code {code}; log {log_path}; last lines:\n"
                + "\n".join(tail)
            )

    def _rewrite_code(self, root: Path, folder: Path) -> None:
        """Scripts that default to SageMaker's `/opt/ml/...` paths use the mapped folder instead."""
        for path in folder.rglob("*.py"):
            text = path.read_text(errors="surrogateescape")
            if OPT_ML in text:
                path.write_text(self._map(root, text), errors="surrogateescape")

    @contextlib.contextmanager
    def _job(self, kind: str, job: str, args: dict[str, Any], result: StepRecord) -> Iterator[dict[str, Any]]:
        """Record the job as Describe{Processing,Training}Job shows it: InProgress, then Completed/Failed."""
        started = now()
        record = {
            **args,
            f"{kind}JobName": job,
            f"{kind}JobArn": self._arn(f"{kind.lower()}-job", job),
            f"{kind}JobStatus": "InProgress",
            "CreationTime": started,
            "LastModifiedTime": started,
            "PipelineExecutionArn": self.record.arn,
        }
        self.jobs[job] = record
        self.on_job(kind, job)
        result.metadata = {f"{kind}Job": {"Arn": record[f"{kind}JobArn"]}}
        try:
            yield record
        except StepFailure as exc:
            record.update(
                {f"{kind}JobStatus": "Failed", "FailureReason": exc.reason, "LastModifiedTime": now()}
            )
            raise
        record.update({f"{kind}JobStatus": "Completed", "LastModifiedTime": now()})
        record["ProcessingEndTime" if kind == "Processing" else "TrainingEndTime"] = record[
            "LastModifiedTime"
        ]

    def processing(self, step: dict[str, Any], args: dict[str, Any], result: StepRecord) -> None:
        job = job_name(self.record.execution_id, step["Name"])
        with self._job("Processing", job, args, result):
            self._run_processing(job, args, result)

    def training(self, step: dict[str, Any], args: dict[str, Any], result: StepRecord) -> None:
        job = job_name(self.record.execution_id, step["Name"])
        with self._job("Training", job, args, result) as record:
            self._run_training(job, args, result)
            record["ModelArtifacts"] = result.properties["ModelArtifacts"]

    def _run_processing(self, job: str, args: dict[str, Any], result: StepRecord) -> None:
        s3 = self.clients("s3")
        root = self._job_root(job)
        spec = args.get("AppSpecification") or {}
        entry = list(spec.get("ContainerEntrypoint") or [])
        if not entry:
            raise StepFailure(
                "AppSpecification.ContainerEntrypoint: the stand-in runs only scripts given as an entrypoint"
            )
        for item in args.get("ProcessingInputs", []):
            source = item.get("S3Input")
            if not source:
                raise StepFailure(f"ProcessingInputs.{item.get('InputName')}: only S3Input is supported")
            if source.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise StepFailure(f"ProcessingInputs.{item.get('InputName')}: S3DataType must be S3Prefix")
            local = Path(self._map(root, source["LocalPath"]))
            s3util.download_prefix(
                s3, source["S3Uri"], local, f"ProcessingInputs.{item.get('InputName')}.S3Uri"
            )
            self._rewrite_code(root, local)
        outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs", [])
        for item in outputs:
            Path(self._map(root, item["S3Output"]["LocalPath"])).mkdir(parents=True, exist_ok=True)
        config_dir = root / "opt" / "ml" / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "processingjobconfig.json").write_text(
            json.dumps({**args, "ProcessingJobName": job}, default=str)
        )
        command = self._command(root, entry + list(spec.get("ContainerArguments") or []))
        env = self._subprocess_env(root, args.get("Environment") or {})
        self._execute(result, root, command, env, root, f"processing job {job}")
        for item in outputs:
            out = item["S3Output"]
            s3util.upload_folder(s3, Path(self._map(root, out["LocalPath"])), out["S3Uri"])
        arn = self._arn("processing-job", job)
        result.properties = {
            **args,
            "ProcessingJobName": job,
            "ProcessingJobArn": arn,
            "ProcessingJobStatus": "Completed",
        }
        result.metadata = {"ProcessingJob": {"Arn": arn}}

    def _run_training(self, job: str, args: dict[str, Any], result: StepRecord) -> None:
        s3 = self.clients("s3")
        root = self._job_root(job)
        ml = root / "opt" / "ml"
        raw_hps = {k: stringify(v) for k, v in (args.get("HyperParameters") or {}).items()}
        hps = {k: _json_or_text(v) for k, v in raw_hps.items()}
        submit = hps.get("sagemaker_submit_directory")
        program = hps.get("sagemaker_program")
        if not submit or not program:
            raise StepFailure(
                "HyperParameters: the stand-in runs script-mode training only: "
                "sagemaker_submit_directory and sagemaker_program are required"
            )
        code = ml / "code"
        if str(submit).startswith("s3://"):
            s3util.untar_bytes(
                s3util.read_object(s3, submit, "HyperParameters.sagemaker_submit_directory"), code
            )
        else:
            raise StepFailure(
                f"HyperParameters.sagemaker_submit_directory: expected an s3:// tarball, got {submit!r}"
            )
        self._rewrite_code(root, code)
        channels = []
        for channel in args.get("InputDataConfig", []):
            name = channel["ChannelName"]
            source = (channel.get("DataSource") or {}).get("S3DataSource")
            if not source:
                raise StepFailure(f"InputDataConfig.{name}: only S3DataSource channels are supported")
            s3util.download_prefix(
                s3, source["S3Uri"], ml / "input" / "data" / name, f"InputDataConfig.{name}.S3Uri"
            )
            channels.append(name)
        for sub in ("model", "output/data", "output/intermediate", "input/config"):
            (ml / sub).mkdir(parents=True, exist_ok=True)
        user_hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        (ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(raw_hps))
        (ml / "input" / "config" / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"})
        )
        (ml / "input" / "config" / "inputdataconfig.json").write_text(
            json.dumps(
                {
                    c["ChannelName"]: {k: v for k, v in c.items() if k != "DataSource"}
                    for c in args.get("InputDataConfig", [])
                }
            )
        )
        user_args: list[str] = []
        for key, value in user_hps.items():
            user_args += [f"--{key}", stringify(value)]
        env = {
            "SM_MODEL_DIR": f"{OPT_ML}/model",
            "SM_INPUT_DIR": f"{OPT_ML}/input",
            "SM_INPUT_CONFIG_DIR": f"{OPT_ML}/input/config",
            "SM_OUTPUT_DIR": f"{OPT_ML}/output",
            "SM_OUTPUT_DATA_DIR": f"{OPT_ML}/output/data",
            "SM_OUTPUT_INTERMEDIATE_DIR": f"{OPT_ML}/output/intermediate",
            "SM_MODULE_DIR": str(submit),
            "SM_MODULE_NAME": str(program).removesuffix(".py"),
            "SM_USER_ENTRY_POINT": str(program),
            "SM_CHANNELS": json.dumps(channels),
            "SM_HPS": json.dumps(user_hps),
            "SM_USER_ARGS": json.dumps(user_args),
            "SM_HOSTS": json.dumps(["algo-1"]),
            "SM_CURRENT_HOST": "algo-1",
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
            "SM_NUM_GPUS": "0",
            "SM_LOG_LEVEL": str(hps.get("sagemaker_container_log_level", 20)),
            "SM_FRAMEWORK_MODULE": "",
            "TRAINING_JOB_NAME": job,
        }
        env.update({f"SM_CHANNEL_{c.upper()}": f"{OPT_ML}/input/data/{c}" for c in channels})
        env.update({f"SM_HP_{k.upper()}": stringify(v) for k, v in user_hps.items()})
        env.update({k: stringify(v) for k, v in (args.get("Environment") or {}).items()})
        command = [self.python, str(program), *user_args]
        if not str(program).endswith(".py"):
            raise StepFailure(f"HyperParameters.sagemaker_program: expected a .py script, got {program!r}")
        self._execute(result, root, command, self._subprocess_env(root, env), code, f"training job {job}")
        output_path = (args.get("OutputDataConfig") or {}).get("S3OutputPath")
        if not output_path:
            raise StepFailure("OutputDataConfig.S3OutputPath is required")
        bucket, prefix = s3util.split_s3_uri(output_path, "OutputDataConfig.S3OutputPath")
        base = f"{prefix.rstrip('/')}/{job}/output" if prefix.strip("/") else f"{job}/output"
        s3.put_object(Bucket=bucket, Key=f"{base}/model.tar.gz", Body=s3util.tar_folder(ml / "model"))
        if any((ml / "output" / "data").iterdir()):
            s3.put_object(
                Bucket=bucket, Key=f"{base}/output.tar.gz", Body=s3util.tar_folder(ml / "output" / "data")
            )
        arn = self._arn("training-job", job)
        result.properties = {
            **args,
            "TrainingJobName": job,
            "TrainingJobArn": arn,
            "TrainingJobStatus": "Completed",
            "ModelArtifacts": {"S3ModelArtifacts": f"s3://{bucket}/{base}/model.tar.gz"},
        }
        result.metadata = {"TrainingJob": {"Arn": arn}}

    def _arn(self, kind: str, name: str) -> str:
        parts = self.record.arn.split(":")
        return f"arn:aws:sagemaker:{parts[3]}:{parts[4]}:{kind}/{name}"


def job_name(execution_id: str, step_name: str) -> str:
    clean = re.sub(r"[^a-zA-Z0-9-]", "-", step_name).strip("-")
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    return f"pipelines-{execution_id}-{clean[:30]}-{suffix}"[:63]


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value
