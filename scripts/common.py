"""What every subcommand shares: exit codes, errors that say how to fix them, progress, waiting, clients."""

from __future__ import annotations

import functools
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import create_loader
from botocore.regions import EndpointResolver

# Exit codes (documented in `sm-mlops --help`).
OK = 0
FAILURE = 1
BAD_INPUT = 2
NOT_FOUND = 3

T = TypeVar("T")


class CommandError(Exception):
    """A failure the user can act on: what went wrong, which field, and the fix."""

    exit_code = FAILURE

    def __init__(self, message: str, *, field: str | None = None, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.fix = fix

    def __str__(self) -> str:
        parts = [f"{self.field}: {self.message}" if self.field else self.message]
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return "\n".join(parts)


class BadInput(CommandError):
    exit_code = BAD_INPUT


class NotFound(CommandError):
    """Something the command needs does not exist yet (a precondition)."""

    exit_code = NOT_FOUND


def progress(message: str) -> None:
    """One line of progress on stderr (stdout is kept for the result, e.g. `--output json`)."""
    print(message, file=sys.stderr, flush=True)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_not_found(error: ClientError) -> bool:
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message", "")).lower()
    return (
        code
        in {
            "ResourceNotFoundException",
            "ResourceNotFound",
            "PipelineNotFoundException",
            "NoSuchEntity",
            "NoSuchBucket",
            "404",
            "NotFound",
            "NoSuchKey",
        }
        or "does not exist" in message
        or "not found" in message
        or "cannot be found" in message
    )


@dataclass
class Waiter:
    """Polls until `check` returns a value that is not None, printing progress while it waits."""

    what: str
    timeout: float = 1800.0
    # Creating a project takes minutes on AWS and seconds on the stand-in: the first checks come quickly
    # (0.5, 0.75, 1.1 s ...) and the waits grow by half each time up to 15 s, so a long wait costs a call
    # every 15 s and a short one is seen within a fraction of a second.
    interval: float = 0.5
    max_interval: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def until(self, check: Callable[[], T | None]) -> T:
        start = self.clock()
        interval = self.interval
        last_report = start
        while True:
            result = check()
            if result is not None:
                return result
            now = self.clock()
            if now - start > self.timeout:
                raise CommandError(
                    f"timed out after {int(now - start)} s waiting for {self.what}",
                    fix="check the resource in the console, then run the command again (it resumes)",
                )
            if now - last_report >= 10:
                progress(f"  ... still waiting for {self.what} ({int(now - start)} s)")
                last_report = now
            self.sleep(interval)
            interval = min(interval * 1.5, self.max_interval)


def retry_on(
    call: Callable[[], T],
    codes: set[str],
    *,
    what: str,
    attempts: int = 10,
    delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Retry `call` while AWS answers one of `codes` (IAM propagation answers like that for a while)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClientError as error:
            if error_code(error) not in codes or attempt == attempts:
                raise
            progress(f"  ... {what}: {error_code(error)}, retrying ({attempt}/{attempts})")
            sleep(delay)
            delay = min(delay * 1.5, 20.0)
    raise AssertionError("unreachable")


# Retries beyond the first call when neither AWS_MAX_ATTEMPTS nor the profile's max_attempts says otherwise.
DEFAULT_RETRIES = 4


def new_session(profile: str | None = None, region: str | None = None) -> boto3.session.Session:
    """A boto3 session as AWS's own tools make one: `--region`, then AWS_REGION, then AWS_DEFAULT_REGION
    and the profile's (botocore itself reads only the last two)."""
    kwargs = {"profile_name": profile, "region_name": region or os.environ.get("AWS_REGION") or None}
    return boto3.session.Session(**{k: v for k, v in kwargs.items() if v})


@dataclass
class Aws:
    """The clients a command uses, from one boto3 session (standard credential chain and AWS_ENDPOINT_URL)."""

    session: boto3.session.Session = field(default_factory=new_session)
    _clients: dict[str, Any] = field(default_factory=dict)
    _account: str | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, config=self.client_config())
        return self._clients[service]

    def client_config(self) -> Config:
        """Retries as AWS_MAX_ATTEMPTS / AWS_RETRY_MODE (or the profile) say; botocore reads them unless
        a Config sets them, so this sets only the count, and only when nobody configured one."""
        if self.session._session.get_config_variable("max_attempts") is not None:
            return Config()
        return Config(retries={"max_attempts": DEFAULT_RETRIES})

    @property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            raise BadInput(
                "no AWS region is configured",
                field="AWS_REGION",
                fix="set AWS_REGION (or pass --region, or set a region in your AWS profile)",
            )
        return region

    _caller: str | None = None

    @property
    def account(self) -> str:
        if self._account is None:
            self._identify()
        return str(self._account)

    @property
    def caller_arn(self) -> str:
        """Who runs the command, as STS says (an assumed role appears as its session's ARN)."""
        if self._caller is None:
            self._identify()
        return str(self._caller)

    def _identify(self) -> None:
        identity = self.client("sts").get_caller_identity()
        self._account, self._caller = str(identity["Account"]), str(identity["Arn"])

    @property
    def partition(self) -> str:
        return self.session.get_partition_for_region(self.region)

    @property
    def dns_suffix(self) -> str:
        """The partition's domain: amazonaws.com, amazonaws.com.cn in China, and so on."""
        return str(_endpoints().get_partition_dns_suffix(self.partition))


@functools.cache
def _endpoints() -> EndpointResolver:
    """botocore's partition data (endpoints.json): which domain each partition's endpoints live under."""
    return EndpointResolver(create_loader().load_data("endpoints"))


# An STS session of an assumed role: arn:<partition>:sts::<account>:assumed-role/<role>/<session>. It
# names the role but not the role's path.
ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[\w+=,.@-]+)/.+"
)


def session_role_arn(arn: str) -> str | None:
    """The role ARN (without its path) of an assumed-role session's ARN; None for any other ARN."""
    found = ASSUMED_ROLE.fullmatch(arn)
    return f"arn:{found['partition']}:iam::{found['account']}:role/{found['role']}" if found else None


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under `key` across the pages of `operation`."""
    items: list[Any] = []
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            items.extend(page.get(key, []))
        return items
    # botocore has no paginator for a few list calls (CodeConnections' ListConnections): follow NextToken.
    call = getattr(client, operation)
    while True:
        page = call(**kwargs)
        items.extend(page.get(key, []))
        if not page.get("NextToken"):
            return items
        kwargs["NextToken"] = page["NextToken"]
