"""CodeBuild's build records: what ``BatchGetBuilds`` reports for a build, its phases and log location."""

from __future__ import annotations

import datetime
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standin.dispatch import present


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
        return data | present(phaseStatus=self.status, contexts=self.contexts)


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


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def stamp() -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S")
