"""Lambda's Invoke for the stand-in: run a function's own code in-process, as the custom resource needs (moto
would start Docker).

The code is what moto's Lambda backend holds (for a template's inline ``Code.ZipFile``, the zip moto made of
it); the handler gets the event, a context with ``get_remaining_time_in_millis()`` counting down from the
function's ``Timeout``, and an environment of the stand-in's ``.env`` plus the function's own variables, so
``boto3`` inside it talks to the stand-in. Invocations run at the same time, as on AWS, each with its own
environment (``environment.invocation_env``) and its own boto3 session in place of the module's ``boto3``
(the process's default session would carry another invocation's region and credentials)."""

from __future__ import annotations

import io
import time
import types
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from standin import footprints
from standin.awslambda.environment import invocation_env


class LambdaCodeError(RuntimeError):
    """The function's code or handler cannot be loaded."""


@dataclass
class LambdaContext:
    """The parts of AWS Lambda's context object a handler uses."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(remaining * 1000))


def load_handler(code_zip: bytes, handler: str, label: str) -> Any:
    """Compile the module of ``handler`` (``module.function``) from ``code_zip``; returns the function."""
    module_name, _, function_name = (handler or "").rpartition(".")
    if not module_name or not function_name:
        raise LambdaCodeError(f"{label}: Handler {handler!r} is not of the form module.function")
    path = module_name.replace(".", "/") + ".py"
    try:
        with zipfile.ZipFile(io.BytesIO(code_zip)) as archive:
            source = archive.read(path).decode()
    except (KeyError, zipfile.BadZipFile) as error:
        raise LambdaCodeError(f"{label}: cannot read {path} from the function's code ({error})") from error
    module = types.ModuleType(f"standin_lambda_{module_name}")
    module.__file__ = f"<{label}>/{path}"
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # the stack's own function code
    function = module.__dict__.get(function_name)
    if not callable(function):
        raise LambdaCodeError(f"{label}: {path} defines no function {function_name!r}")
    return function


def invoke(
    account_id: str, region: str, function: str, event: Mapping[str, Any], env: Mapping[str, str]
) -> Any:
    """Invoke ``function`` (name or ARN) of moto's Lambda backend with ``event``; returns its result."""
    import boto3
    from moto.backends import get_backend

    fn = get_backend("lambda")[account_id][region].get_function(function)
    label = f"lambda {fn.function_name}"
    if fn.run_time and not str(fn.run_time).startswith("python"):
        raise LambdaCodeError(
            f"{label}: Runtime {fn.run_time}: the stand-in runs only Python functions in-process"
        )
    context = LambdaContext(
        function_name=fn.function_name,
        function_version="$LATEST",
        invoked_function_arn=fn.function_arn,
        memory_limit_in_mb=int(fn.memory_size or 128),
        timeout_seconds=float(fn.timeout or 3),
        log_group_name=f"/aws/lambda/{fn.function_name}",
        log_stream_name=time.strftime("%Y/%m/%d") + "/[$LATEST]" + uuid.uuid4().hex,
    )
    environment = dict(env)
    environment.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(context.memory_limit_in_mb),
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
    )
    with invocation_env(environment):
        footprints.function_invoked(account_id, region, fn.function_name, context.log_stream_name)
        handler = load_handler(fn.code_bytes, fn.handler or "", label)
        if handler.__globals__.get("boto3") is boto3:
            handler.__globals__["boto3"] = _own_boto3(boto3.Session())
        return handler(dict(event), context)


def _own_boto3(session: Any) -> types.SimpleNamespace:
    """What the function's ``boto3`` offers, bound to this invocation's session."""
    import boto3

    return types.SimpleNamespace(
        client=session.client,
        resource=session.resource,
        Session=boto3.Session,
        session=boto3.session,
        DEFAULT_SESSION=session,
    )
