"""Seed-code check-in custom resource: pushes a seed zip into a Git repository through a CodeBuild build.

Inlined into the product template as the Lambda's Code.ZipFile (comments and docstrings are stripped at
render time). Standard library and boto3 only. It answers CloudFormation on every path, before the Lambda's
own timeout: Create seeds; Delete succeeds and leaves the repository's content alone.

A stable trigger: this function is the custom resources' ServiceToken, which CloudFormation refuses to change
on update, and AWS's launch role may not update a function's code or settings, so a project created from one
release must be able to move to the next with this function unchanged. It knows no release: the objects to
check and their hashes, the build's environment and the repository URL all come from the resource's
properties (which an update may change), and the check-in itself is the bootstrap the build runs.

Update does nothing to the repository, as AWS's own seeding does: it answers SUCCESS with the same physical
id and the same `url`, and starts no build. The repository belongs to the data scientist once seeded; a new
release's seed pushed on top would silently revert their commits wherever both have a file. A project that
wants a newer seed gets it in a new repository.

The asset bucket is shared: anything allowed to write to it could swap a zip that every new project then
pushes or runs. The template pins each zip's full SHA-256 (`BootstrapSha256`, `SeedCodeSha256`), and Create
checks both before starting the build, refusing a mismatch with the object, both hashes and the fix. What
it checked is what runs: the bootstrap is read as one object version and the build is started on that same
object and version (`sourceLocationOverride`, `sourceVersion`; the bootstrap is the code that runs, so it
must be pinned, it cannot check itself); the build's environment carries the seed's hash and the bootstrap
checks the zip it downloaded before unpacking it, so a seed swapped after this check fails the build instead
of being pushed. A bucket without versioning (no version id) cannot pin the bootstrap, so it is refused
before any build, naming the fix: `sm-mlops register` turns versioning on.

Time: every AWS call is bounded by CLIENT_CONFIG, so its worst case is known (CALL_WORST), and so is the
answer's (ANSWER_WORST: every attempt timing out, with the waits between). The function starts a call or a
poll only while the call's worst case still leaves the answer's whole worst case (MARGIN_SECONDS) before
the Lambda's timeout, and the answer shortens its own attempts to the time left.
"""

import hashlib
import json
import os
import time
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config

# A check-in build takes about a minute on CodeBuild (most of it provisioning) and under a second locally:
# polls start at POLL_FIRST_SECONDS and double up to POLL_SECONDS, so a fast build is seen at once and a
# slow one costs a poll every 10 s (four more BatchGetBuilds calls than a flat 10 s over a minute's build).
POLL_FIRST_SECONDS = 0.5
POLL_SECONDS = 10
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 20
ATTEMPTS = 2
RETRY_WAIT_WORST = 6  # botocore standard mode: up to 1 s before a retry, 5 s more if the service asks for it
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
)
CALL_WORST = ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT) + (ATTEMPTS - 1) * RETRY_WAIT_WORST
ANSWER_ATTEMPTS = 3
ANSWER_TIMEOUT = 20  # each PUT of the answer (a few hundred bytes to S3)
ANSWER_WAITS = tuple(2**n for n in range(ANSWER_ATTEMPTS - 1))  # between attempts: 1 s, 2 s
ANSWER_WORST = ANSWER_ATTEMPTS * ANSWER_TIMEOUT + sum(ANSWER_WAITS)
SPARE_SECONDS = 5  # what the answer's own bookkeeping and the clock's granularity may take
MARGIN_SECONDS = ANSWER_WORST + SPARE_SECONDS  # kept for the answer: no call starts inside it
CHUNK = 1 << 20
REQUIRED = (
    "CodeBuildProjectName",
    "SeedCodeBucket",
    "SeedCodeKey",
    "SeedCodeSha256",
    "BootstrapKey",
    "BootstrapSha256",
    "RepositoryUrl",
    "BuildEnvironment",
)
UPDATE_REASON = "Update leaves the repository alone: its content is the data scientist's once seeded"
CONSOLE = {"aws-cn": "console.amazonaws.cn", "aws-us-gov": "console.amazonaws-us-gov.com"}


OutOfTime = type("OutOfTime", (Exception,), {})  # not enough time for the next call and then the answer


def partition_of(arn):
    """The partition an ARN names (aws, aws-cn, ...); aws when it names none."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def log_link(build_id, partition):
    region = os.environ.get("AWS_REGION", "us-east-1")
    host = CONSOLE.get(partition, f"{region}.console.aws.amazon.com")
    project = build_id.split(":", 1)[0]
    quoted = urllib.parse.quote(build_id, safe="")
    return f"https://{host}/codesuite/codebuild/projects/{project}/build/{quoted}/log?region={region}"


def send(event, status, physical_id, data, reason, remaining=None, sleep=None):
    """PUT the answer to CloudFormation's pre-signed URL, retried within the time left (a lost answer hangs
    the stack). remaining() is the seconds until the Lambda's timeout."""
    sleep = sleep or time.sleep
    answer = {
        "Status": status,
        "Reason": reason[:1000],
        "PhysicalResourceId": physical_id,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": data,
    }
    body = json.dumps(answer).encode()
    print(json.dumps({k: v for k, v in answer.items() if k != "Data"}))
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    for attempt in range(ANSWER_ATTEMPTS):
        left = (remaining() if remaining else float(ANSWER_WORST)) - SPARE_SECONDS
        timeout = min(ANSWER_TIMEOUT, left)
        if timeout < 1:
            print("no time left to answer CloudFormation again")
            return answer
        try:
            request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers=headers)
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return answer
        except OSError as error:
            print(f"answering CloudFormation failed ({error}); attempt {attempt + 1} of {ANSWER_ATTEMPTS}")
            if attempt < len(ANSWER_WAITS) and left - timeout > ANSWER_WAITS[attempt] + 1:
                sleep(ANSWER_WAITS[attempt])
    return answer


def propagating(error):
    """True for the refusals IAM gives while a new role or policy propagates."""
    detail = getattr(error, "response", {}).get("Error", {})
    text = f"{detail.get('Code', '')} {detail.get('Message', '')}"
    return "AccessDenied" in text or "not authorized" in text


def need(seconds_left, seconds, what):
    """Refuse to start what may take `seconds` at worst unless the answer's margin stays whole after it."""
    if seconds_left() < seconds:
        raise OutOfTime(what)


def verified_version(s3, bucket, key, expected, seconds_left):
    """The version id of s3://bucket/key whose content has SHA-256 `expected` (None: bucket unversioned)."""
    need(seconds_left, CALL_WORST + READ_TIMEOUT, f"reading s3://{bucket}/{key}")
    response = s3.get_object(Bucket=bucket, Key=key)
    digest = hashlib.sha256()
    for chunk in iter(lambda: response["Body"].read(CHUNK), b""):
        digest.update(chunk)
    version = response.get("VersionId")
    if digest.hexdigest() != expected.lower():
        where = f" (version {version})" if version and version != "null" else ""
        raise ValueError(
            f"s3://{bucket}/{key}{where} has SHA-256 {digest.hexdigest()}, but this template expects "
            f"{expected.lower()}: the shared asset was changed after it was registered. Nothing was pushed. "
            "Run `sm-mlops register` to repair the assets, then retry."
        )
    return version if version and version != "null" else None


def start(codebuild, props, bootstrap_version, seconds_left, sleep):
    """Start the check-in build on the bootstrap object and version just verified, with the resource's
    BuildEnvironment as the build's environment."""
    environment = props["BuildEnvironment"]
    variables = [{"name": k, "value": str(environment[k]), "type": "PLAINTEXT"} for k in sorted(environment)]
    source = f"{props['SeedCodeBucket']}/{props['BootstrapKey']}"
    while True:
        need(seconds_left, CALL_WORST, "starting the check-in build")
        try:
            response = codebuild.start_build(
                projectName=props["CodeBuildProjectName"],
                environmentVariablesOverride=variables,
                sourceLocationOverride=source,
                sourceVersion=bootstrap_version,
            )
            return response["build"]
        except Exception as error:
            if not propagating(error) or seconds_left() < POLL_SECONDS + CALL_WORST:
                raise
            print(f"start_build refused while IAM propagates, retrying: {error}")
            sleep(POLL_SECONDS)


def poll_waits():
    """The waits between polls of the build: POLL_FIRST_SECONDS doubling up to POLL_SECONDS, then flat."""
    wait = POLL_FIRST_SECONDS
    while True:
        yield wait
        wait = min(wait * 2, POLL_SECONDS)


def failed_phase(build):
    for phase in build.get("phases") or []:
        if phase.get("phaseStatus") not in (None, "SUCCEEDED"):
            messages = "; ".join(
                c.get("message", "") for c in phase.get("contexts") or [] if c.get("message")
            )
            return f" in phase {phase.get('phaseType')}" + (f" ({messages})" if messages else "")
    return ""


def check_in(codebuild, s3, props, partition, seconds_left, sleep):
    """Check the assets, run the check-in build; (status, reason) for CloudFormation."""
    bucket = props["SeedCodeBucket"]
    version = verified_version(s3, bucket, props["BootstrapKey"], props["BootstrapSha256"], seconds_left)
    if version is None:
        raise ValueError(
            f"s3://{bucket} keeps no object versions, so the bootstrap checked could not be the one that "
            "runs. Nothing was pushed. Run `sm-mlops register` to repair the asset bucket (it turns "
            "versioning on), then retry."
        )
    verified_version(s3, bucket, props["SeedCodeKey"], props["SeedCodeSha256"], seconds_left)
    build = start(codebuild, props, version, seconds_left, sleep)
    waits = poll_waits()
    while build["buildStatus"] == "IN_PROGRESS":
        wait = next(waits)
        if seconds_left() < wait + CALL_WORST:
            return "FAILED", (
                f"Seed code check-in build {build['id']} still running; answering before this function "
                f"times out. Its log: {log_link(build['id'], partition)}"
            )
        sleep(wait)
        build = codebuild.batch_get_builds(ids=[build["id"]])["builds"][0]
    if build["buildStatus"] == "SUCCEEDED":
        return "SUCCESS", f"Seed code checked in to {props['RepositoryUrl']} by build {build['id']}"
    return "FAILED", (
        f"Seed code check-in build {build['id']} ended {build['buildStatus']}{failed_phase(build)}. "
        f"Its log: {log_link(build['id'], partition)}"
    )


def updated_data(event):
    """The `url` the resource answered before: from the old properties (those it seeded), else the new."""
    for props in (event.get("OldResourceProperties") or {}, event.get("ResourceProperties") or {}):
        if props.get("RepositoryUrl"):
            return {"url": props["RepositoryUrl"]}
    return {}


def checked(props):
    """The properties Create needs, each present; BuildEnvironment a map of names to values."""
    missing = [name for name in REQUIRED if not props.get(name)]
    if missing:
        raise ValueError(f"missing resource properties: {', '.join(missing)}")
    if not isinstance(props["BuildEnvironment"], dict):
        raise ValueError("BuildEnvironment must be a map of environment variable names to values")
    return props


def handler(event, context, codebuild=None, s3=None, sleep=time.sleep):
    request = event["RequestType"]
    props = event.get("ResourceProperties") or {}
    physical_id = event.get("PhysicalResourceId") or (
        f"{props.get('CodeBuildProjectName')}/{event['LogicalResourceId']}"
    )

    def remaining():
        return context.get_remaining_time_in_millis() / 1000

    def seconds_left():
        return remaining() - MARGIN_SECONDS

    def answer(status, data, reason):
        return send(event, status, physical_id, data, reason, remaining, sleep)

    if request == "Delete":
        return answer("SUCCESS", {}, "Nothing to delete: the repository keeps its content")
    data = {}
    try:
        if request == "Update":
            return answer("SUCCESS", updated_data(event), UPDATE_REASON)
        checked(props)
        partition = partition_of(props.get("ServiceToken") or "")
        data = {"url": props["RepositoryUrl"]}
        status, reason = check_in(
            codebuild or boto3.client("codebuild", config=CLIENT_CONFIG),
            s3 or boto3.client("s3", config=CLIENT_CONFIG),
            props,
            partition,
            seconds_left,
            sleep,
        )
        return answer(status, data, reason)
    except OutOfTime as error:
        reason = f"Not enough time left for {error} and the answer; this function answers before it times out"
        return answer("FAILED", data, reason)
    except Exception as error:  # noqa: BLE001 - every other failure is answered FAILED with its reason, never left unanswered
        return answer("FAILED", data, f"{type(error).__name__}: {error}")
