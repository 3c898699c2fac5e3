"""AWS's own failures, said the way the project says its own: what went wrong, and the fix."""

from __future__ import annotations

import os
import re

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from scripts.common import ASSUMED_ROLE, FAILURE, NOT_FOUND, error_code

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedAccess",
}
THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "ProvisionedThroughputExceededException",
}
# "User: ARN is not authorized to perform: ACTION on resource: RESOURCE [because …]", as most services say.
NOT_AUTHORIZED = re.compile(
    r"User: (?P<identity>\S+) is not authorized to perform: (?P<action>\S+)"
    r"(?: on resource: (?P<resource>\S+))?(?P<why>.*)",
    re.DOTALL,
)


def no_credentials(error: NoCredentialsError) -> tuple[str, int]:
    """Which sources botocore looked in (in its order), with the file paths this environment gives them."""
    config = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    profile = os.environ.get("AWS_PROFILE") or "default"
    tried = [
        "the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        "a web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)",
        f"profile [{profile}] in {credentials} and {config} (keys, role_arn, sso, credential_process)",
        "the container's credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI)",
        "the EC2 instance profile (instance metadata)",
    ]
    listed = "".join(f"\n  - {source}" for source in tried)
    return (
        f"no AWS credentials found; botocore looked in:{listed}\n"
        "Fix: `aws sso login --profile NAME` and set AWS_PROFILE=NAME, or `aws configure`, or export "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary ones)",
        NOT_FOUND,
    )


def unreachable(error: EndpointConnectionError) -> tuple[str, int]:
    url = str(error.kwargs.get("endpoint_url", ""))
    override = os.environ.get("AWS_ENDPOINT_URL")
    if override:
        return (
            f"nothing answers at {url}: AWS_ENDPOINT_URL={override} sends every call there\n"
            "Fix: start what it points at (for the local stand-in: `make standin`), or unset "
            "AWS_ENDPOINT_URL to talk to AWS",
            FAILURE,
        )
    return (
        f"cannot reach {url}\nFix: check the network, a proxy (HTTPS_PROXY) and the region (--region, "
        "AWS_REGION): the service may not exist in that region",
        FAILURE,
    )


def client_error(error: ClientError) -> tuple[str, int]:
    code = error_code(error)
    info = error.response.get("Error", {})
    message = str(info.get("Message", ""))
    if code in ACCESS_DENIED:
        return access_denied(error, message), FAILURE
    if code in THROTTLED:
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        return (
            f"AWS throttled {error.operation_name} ({code}) and it was still throttled after {attempts} "
            f"retr{'y' if attempts == 1 else 'ies'}: {message}\n"
            "Fix: wait a minute and run the command again (it resumes where it stopped); to retry longer, "
            "set AWS_MAX_ATTEMPTS (e.g. 10) and AWS_RETRY_MODE=adaptive",
            FAILURE,
        )
    return f"AWS refused {error.operation_name}: {code}: {message}", FAILURE


def access_denied(error: ClientError, message: str) -> str:
    """The action, the resource, who asked, and which role or policy to change."""
    found = NOT_AUTHORIZED.search(message)
    action = found["action"] if found else f"<service>:{error.operation_name}"
    resource = (found["resource"] if found else None) or "(AWS did not say which resource)"
    identity = found["identity"] if found else "(AWS did not say; run `aws sts get-caller-identity`)"
    role = ASSUMED_ROLE.match(identity)
    who = f"role {role['role']}" if role else identity
    why = (found["why"].strip(" .") if found else "") or message
    if "explicit deny" in why:
        change = (
            "an explicit Deny wins over any Allow: remove or narrow the Deny in the policy the message "
            "names (a service control policy, permissions boundary, session, resource or identity policy)"
        )
    else:
        change = f"allow {action} on {resource} in a policy attached to {who}"
    return (
        f"access denied: {identity} may not {action} on {resource}\n  AWS said: {message}\n"
        f"Fix: {change}; run the command again afterwards (it resumes)"
    )
