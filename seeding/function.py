"""Seed-code check-in custom resource: pushes a seed zip into a Git repository through a CodeBuild build.

Inlined into the product template as the Lambda's Code.ZipFile (comments and docstrings are stripped at
render time). Standard library and boto3 only. It answers CloudFormation on every path, before the Lambda's
own timeout: Create seeds; Delete succeeds and leaves the repository's content alone.

Update does nothing to the repository, as AWS's own seeding does: it answers SUCCESS with the same physical
id and the same `url`, and starts no build. The repository belongs to the data scientist once seeded; a new
release's seed pushed on top would silently revert their commits wherever both have a file. A project that
wants a newer seed gets it in a new repository.
"""

import json
import os
import time
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config

POLL_SECONDS = 10
MARGIN_SECONDS = 60  # answer CloudFormation at least this long before the Lambda runs out of time
# Bounds one CodeBuild call (2 attempts x 25 s) to less than the margin, so a hung call cannot eat it.
CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=20, retries={"total_max_attempts": 2, "mode": "standard"}
)
REQUIRED = (
    "CodeBuildProjectName",
    "SeedCodeBucket",
    "SeedCodeKey",
    "ConnectionArn",
    "FullRepositoryName",
    "Branch",
)
URL_SUFFIX = {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}
UPDATE_REASON = "Update leaves the repository alone: its content is the data scientist's once seeded"
CONSOLE = {"aws-cn": "console.amazonaws.cn", "aws-us-gov": "console.amazonaws-us-gov.com"}


def proxy_url(connection_arn, full_name):
    """The connection's git proxy URL for owner/repo (codestar-connections or codeconnections)."""
    _, partition, service, region, account, resource = connection_arn.split(":", 5)
    connection_id = resource.split("/", 1)[1]
    suffix = URL_SUFFIX.get(partition, "amazonaws.com")
    return f"https://{service}.{region}.{suffix}/git-http/{account}/{region}/{connection_id}/{full_name}.git"


def log_link(build_id, partition):
    region = os.environ.get("AWS_REGION", "us-east-1")
    host = CONSOLE.get(partition, f"{region}.console.aws.amazon.com")
    project = build_id.split(":", 1)[0]
    quoted = urllib.parse.quote(build_id, safe="")
    return f"https://{host}/codesuite/codebuild/projects/{project}/build/{quoted}/log?region={region}"


def send(event, status, physical_id, data, reason):
    """PUT the answer to CloudFormation's pre-signed URL (retried: a lost answer hangs the stack)."""
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
    for attempt in range(3):
        try:
            request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers=headers)
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            return answer
        except OSError as error:
            print(f"answering CloudFormation failed ({error}); attempt {attempt + 1} of 3")
            time.sleep(2**attempt)
    return answer


def propagating(error):
    """True for the refusals IAM gives while a new role or policy propagates."""
    detail = getattr(error, "response", {}).get("Error", {})
    text = f"{detail.get('Code', '')} {detail.get('Message', '')}"
    return "AccessDenied" in text or "not authorized" in text


def start(codebuild, props, url, seconds_left, sleep):
    key = props["SeedCodeKey"]
    overrides = {
        "REPOSITORY_URL": url,
        "REPOSITORY_BRANCH": props["Branch"],
        "SEED_CODE_S3_URI": f"s3://{props['SeedCodeBucket']}/{key}",
        "SEED_CODE_ID": key.rsplit("/", 1)[-1],
    }
    variables = [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in overrides.items()]
    while True:
        try:
            response = codebuild.start_build(
                projectName=props["CodeBuildProjectName"], environmentVariablesOverride=variables
            )
            return response["build"]
        except Exception as error:
            if not propagating(error) or seconds_left() < POLL_SECONDS:
                raise
            print(f"start_build refused while IAM propagates, retrying: {error}")
            sleep(POLL_SECONDS)


def failed_phase(build):
    for phase in build.get("phases") or []:
        if phase.get("phaseStatus") not in (None, "SUCCEEDED"):
            messages = "; ".join(
                c.get("message", "") for c in phase.get("contexts") or [] if c.get("message")
            )
            return f" in phase {phase.get('phaseType')}" + (f" ({messages})" if messages else "")
    return ""


def check_in(codebuild, props, url, partition, seconds_left, sleep):
    """Run the check-in build; (status, reason) for CloudFormation."""
    build = start(codebuild, props, url, seconds_left, sleep)
    while build["buildStatus"] == "IN_PROGRESS":
        if seconds_left() < POLL_SECONDS:
            return "FAILED", (
                f"Seed code check-in build {build['id']} still running; answering before this function "
                f"times out. Its log: {log_link(build['id'], partition)}"
            )
        sleep(POLL_SECONDS)
        build = codebuild.batch_get_builds(ids=[build["id"]])["builds"][0]
    if build["buildStatus"] == "SUCCEEDED":
        return "SUCCESS", f"Seed code checked in to {props['FullRepositoryName']} by build {build['id']}"
    return "FAILED", (
        f"Seed code check-in build {build['id']} ended {build['buildStatus']}{failed_phase(build)}. "
        f"Its log: {log_link(build['id'], partition)}"
    )


def updated_data(event):
    """The `url` the resource answered before: from the old properties (those it seeded), else the new."""
    for props in (event.get("OldResourceProperties") or {}, event.get("ResourceProperties") or {}):
        if props.get("ConnectionArn") and props.get("FullRepositoryName"):
            return {"url": proxy_url(props["ConnectionArn"], props["FullRepositoryName"])}
    return {}


def handler(event, context, codebuild=None, sleep=time.sleep):
    request = event["RequestType"]
    props = event.get("ResourceProperties") or {}
    physical_id = event.get("PhysicalResourceId") or (
        f"{props.get('CodeBuildProjectName')}/{event['LogicalResourceId']}"
    )
    if request == "Delete":
        return send(event, "SUCCESS", physical_id, {}, "Nothing to delete: the repository keeps its content")
    data = {}
    try:
        if request == "Update":
            return send(event, "SUCCESS", physical_id, updated_data(event), UPDATE_REASON)
        missing = [name for name in REQUIRED if not props.get(name)]
        if missing:
            raise ValueError(f"missing resource properties: {', '.join(missing)}")
        partition = props["ConnectionArn"].split(":")[1]
        data = {"url": proxy_url(props["ConnectionArn"], props["FullRepositoryName"])}

        def seconds_left():
            return context.get_remaining_time_in_millis() / 1000 - MARGIN_SECONDS

        status, reason = check_in(
            codebuild or boto3.client("codebuild", config=CLIENT_CONFIG),
            props,
            data["url"],
            partition,
            seconds_left,
            sleep,
        )
        return send(event, status, physical_id, data, reason)
    except Exception as error:
        return send(event, "FAILED", physical_id, data, f"{type(error).__name__}: {error}")
