"""The registry of operations the stand-in answers instead of moto, and the WSGI layer that routes them.

Register a handler with the decorator; the module holding it must be imported before a request arrives
(each service package imports its handler modules and is listed in ``HANDLER_MODULES``)::

    from standin.dispatch import AwsError, Context, operation

    @operation("servicecatalog", "CreateProvisioningArtifact")
    def create_provisioning_artifact(ctx: Context, params: dict) -> dict:
        product = ctx.store("servicecatalog", dict).get(params["ProductId"])
        if product is None:
            raise AwsError("ResourceNotFoundException", f"Product {params['ProductId']} not found.")
        return {"ProvisioningArtifactDetail": {...}, "Status": "AVAILABLE"}

- The service name is the SigV4 signing name from the request's credential scope (``servicecatalog``,
  ``sagemaker``, ``codestar-connections``, ``codeconnections``, ``cloudformation``, ``sts``, ...).
- The operation is the botocore operation name: from ``X-Amz-Target`` (JSON protocols), the ``Action``
  form field (query protocols) or the method and path matched against botocore's model (REST protocols).
- ``params`` is the decoded JSON body (JSON protocols), the flat form fields (query protocols:
  ``{"Tags.member.1.Key": ...}``) or, for REST protocols, the JSON body merged with the path's and query
  string's named members.
- The handler returns a dict serialised like AWS would (JSON; or XML ``<OpResponse><OpResult>`` for query
  protocols); datetimes become epoch seconds in JSON and ISO 8601 in XML.
  ``raise AwsError(code, message, status)`` gives the protocol's error body. A handler may call
  ``ctx.forward()`` to let moto answer the same request, then adjust moto's answer (``ctx.forward_json()``).
- Anything not registered passes to moto unchanged. Plain WSGI apps (the git server, the admin API, the
  custom resource's ResponseURL) are mounted on a path prefix with ``Layer.mount(prefix, app)``.
- State that is not moto's lives in ``ctx.store(name, factory)``: one object per stand-in, account and
  region, cleared by ``StandIn.reset()``. Functions decorated ``@on_reset`` run on every reset too.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape

import botocore.session

from standin import changes

Handler = Callable[["Context", dict], dict]
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]

# Modules the stand-in imports at start so that their handlers and moto extensions are registered; a module
# missing from the tree is skipped (the parts are written in parallel).
HANDLER_MODULES = [
    "standin.moto_fixes",
    "standin.servicecatalog",
    "standin.cloudformation",
    "standin.connections",
    "standin.iam",
    "standin.sagemaker.projects",
    "standin.sagemaker.code_repositories",
    "standin.sagemaker.model_registry",
    "standin.codebuild",
    "standin.codepipeline",
    "standin.events",
    "standin.sagemaker.pipelines",
    "standin.sagemaker.model_package_events",
    "standin.runtime",
]

_HANDLERS: dict[tuple[str, str], Handler] = {}
_RESET_HOOKS: list[Callable[[Any], None]] = []
_SERVICE_ALIASES = {"eventbridge": "events"}
_botocore_session = botocore.session.get_session()
_model_lock = threading.Lock()
_models_by_signing_name: dict[str, Any] = {}


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the answer to ``service``'s operation ``name`` (botocore spelling)."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[(service, name)] = handler
        return handler

    return register


def on_reset(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """Run ``hook(standin)`` whenever that stand-in's state is reset (engine state outside ``ctx.store``)."""
    _RESET_HOOKS.append(hook)
    return hook


def load_handler_modules() -> list[str]:
    """Import every module of ``HANDLER_MODULES`` that exists; returns the names imported."""
    import importlib

    loaded = []
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is None or not name.startswith(error.name):
                raise
            continue
        loaded.append(name)
    return loaded


def run_reset_hooks(standin: Any) -> None:
    for hook in list(_RESET_HOOKS):
        hook(standin)


def present(**members: Any) -> dict[str, Any]:
    """The members that have a value: AWS leaves an unset member out of a response rather than sending it
    empty (None, "", [] and {} are left out; False and 0 are values)."""
    return {
        name: value
        for name, value in members.items()
        if value is not None and value != "" and value != [] and value != {}
    }


# Operations that only read: a waiter's own checks (describe, list) must not wake the waiters again.
_READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Search", "Scan", "Head")


def _may_write(request: Request) -> bool:
    """Whether a request may have changed state (anything but a GET and a read operation)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    action = request.headers.get("x-amz-target", "").rsplit(".", 1)[-1] or request.query.get("Action", "")
    if not action and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        action = dict(parse_qsl(request.body.decode(errors="replace"))).get("Action", "")
    return not action.startswith(_READ_PREFIXES)


class AwsError(Exception):
    """An error AWS would return: ``code`` such as ``ValidationException``, a message, an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def _service_model(signing_name: str) -> Any:
    with _model_lock:
        if not _models_by_signing_name:
            for name in _botocore_session.get_available_services():
                try:
                    model = _botocore_session.get_service_model(name)
                except Exception:  # noqa: BLE001 - a broken model file only hides that service
                    continue
                _models_by_signing_name.setdefault(model.signing_name, model)
                _models_by_signing_name.setdefault(name, model)
        return _models_by_signing_name.get(signing_name)


def check_members(service: str, operation_name: str, params: dict, members: tuple[str, ...]) -> None:
    """Check ``members`` of a request against the service model's constraints (length, pattern), as the API's
    front end does before any handler runs; the error is AWS's own "1 validation error detected" answer."""
    model = _service_model(service)
    shape = model.operation_model(operation_name).input_shape if model else None
    for member in members:
        value = params.get(member)
        if shape is None or not isinstance(value, str) or member not in shape.members:
            continue
        rules = shape.members[member].metadata
        field = member[:1].lower() + member[1:]
        broken = None
        if len(value) < rules.get("min", 0):
            broken = f"Member must have length greater than or equal to {rules['min']}"
        elif "max" in rules and len(value) > rules["max"]:
            broken = f"Member must have length less than or equal to {rules['max']}"
        elif (
            "pattern" in rules
            and "\\p{" not in rules["pattern"]
            and not re.fullmatch(rules["pattern"], value)
        ):
            broken = f"Member must satisfy regular expression pattern: {rules['pattern']}"
        if broken:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at '{field}' "
                f"failed to satisfy constraint: {broken}",
            )


@dataclass
class Request:
    """What the layer read from one HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    service: str | None
    region: str | None
    access_key: str | None


@dataclass
class Context:
    """What a handler gets besides its parameters."""

    service: str
    operation: str
    region: str
    account_id: str
    standin: Any
    request: Request
    layer: Layer
    protocol: str = "json"
    _environ: dict = field(default_factory=dict, repr=False)

    def store(self, name: str, factory: Callable[[], Any]) -> Any:
        """The stand-in's state object ``name`` for this account and region, created with ``factory`` once."""
        return self.layer.store(name, self.account_id, self.region, factory)

    def backend(self, service: str) -> Any:
        """moto's backend of ``service`` for this account and region (e.g. ``ctx.backend("sagemaker")``)."""
        from moto.backends import get_backend

        return get_backend(service)[self.account_id][self.region]  # type: ignore[call-overload]

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` pointed at this stand-in (threaded server: calling itself works)."""
        return self.standin.client(service, region_name=self.region)

    def forward(self) -> tuple[int, dict[str, str], bytes]:
        """Let moto answer this very request; returns (status, headers, body)."""
        return self.layer.call_moto(self._environ, self.request.body)

    def forward_json(self) -> dict:
        """moto's answer to this request as JSON; an error answer is raised again as ``AwsError``."""
        status, _, body = self.forward()
        data = json.loads(body or b"{}")
        if status >= 400:
            code = str(data.get("__type", "InternalFailure")).rsplit("#", 1)[-1]
            raise AwsError(code, data.get("message") or data.get("Message") or "", status)
        return data


def _parse_credential(auth: str) -> tuple[str | None, str | None, str | None]:
    match = re.search(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", auth or "")
    if not match:
        return None, None, None
    return match.group(1), match.group(2), match.group(3)


def _service_from_host(host: str) -> tuple[str | None, str | None]:
    match = re.match(r"^(?:api\.)?([a-z0-9-]+)\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com", host or "")
    if match:
        return match.group(1), match.group(2)
    return None, None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.timestamp()
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _xml(value: Any, tag: str) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml(v, k) for k, v in value.items() if v is not None)
    elif isinstance(value, list):
        inner = "".join(_xml(v, "member") for v in value)
    elif isinstance(value, bool):
        inner = "true" if value else "false"
    elif isinstance(value, datetime.datetime):
        inner = value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        inner = escape(str(value))
    return f"<{tag}>{inner}</{tag}>"


def _rest_match(model: Any, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for name in model.operation_names:
        http = model.operation_model(name).http
        if http.get("method", "POST") != method:
            continue
        template = http.get("requestUri", "/").split("?", 1)[0]
        pattern = re.sub(r"\\{(\w+)\\\+\\}", r"(?P<\1>.+)", re.escape(template))
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", pattern)
        match = re.fullmatch(pattern.rstrip("/") + "/?", path)
        if match:
            return name, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


@dataclass(frozen=True)
class Mount:
    """A WSGI app answering the paths under ``prefix`` (on hosts matching ``host``, when given)."""

    prefix: str
    host: str | None
    app: WsgiApp
    aws_api: bool = False


def read_operation(request: Request) -> tuple[str, str, dict] | None:
    """The botocore operation a request calls, its protocol and its parameters; None when no model names it
    (S3's REST requests are read by IAM's own table, `standin.iam.s3_actions`)."""
    service = request.service
    if not service or service == "s3":
        return None
    target = request.headers.get("x-amz-target")
    if target:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        return target.rsplit(".", 1)[-1], "json", body if isinstance(body, dict) else {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded") or "Action" in request.query:
        form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        form.update(request.query)
        return form.get("Action", ""), "query", form
    model = _service_model(service)
    if model is None:
        return None
    matched = _rest_match(model, request.method, request.path)
    if matched is None:
        return None
    op_name, path_params = matched
    params: dict = {}
    if request.body and "json" in content_type:
        params.update(json.loads(request.body))
    params.update(request.query)
    params.update(path_params)
    return op_name, "rest-json", params


def _protocol(service: str | None, operation: tuple[str, str, dict] | None) -> str:
    """The protocol an error answer takes: the operation's, else the service model's."""
    if operation is not None:
        return operation[1]
    model = _service_model(service) if service else None
    return str(model.metadata.get("protocol", "json")) if model is not None else "json"


class Layer:
    """The WSGI app in front of moto: mounted apps, then registered operations, then moto."""

    def __init__(self, moto_app: WsgiApp, standin: Any = None, account_id: str = "123456789012") -> None:
        self.moto_app = moto_app
        self.standin = standin
        self.account_id = account_id
        self.mounts: list[Mount] = []
        self._stores: dict[tuple[str, str, str], Any] = {}
        self._stores_lock = threading.Lock()

    def mount(
        self, prefix: str, app: WsgiApp, host_pattern: str | None = None, aws_api: bool = False
    ) -> None:
        """Send requests whose path starts with ``prefix`` (and host matches ``host_pattern``) to ``app``;
        ``aws_api`` for an app answering an AWS API (InvokeEndpoint), whose callers IAM authorises first."""
        self.mounts.append(Mount(prefix, host_pattern, app, aws_api))
        self.mounts.sort(key=lambda mount: -len(mount.prefix))

    def store(self, name: str, account_id: str, region: str, factory: Callable[[], Any]) -> Any:
        with self._stores_lock:
            key = (name, account_id, region)
            if key not in self._stores:
                self._stores[key] = factory()
            return self._stores[key]

    def stores(self, name: str) -> list[tuple[str, str, Any]]:
        """Every (account, region, object) of store ``name`` that exists."""
        with self._stores_lock:
            return [(a, r, v) for (n, a, r), v in self._stores.items() if n == name]

    def reset(self) -> None:
        with self._stores_lock:
            self._stores.clear()

    def call_moto(self, environ: dict, body: bytes) -> tuple[int, dict[str, str], bytes]:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = dict(headers)
            return lambda data: None

        chunks = self.moto_app(env, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return captured["status"], captured["headers"], data

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        host = environ.get("HTTP_HOST", "")
        mounted = next(
            (
                m
                for m in self.mounts
                if path.startswith(m.prefix) and (m.host is None or re.match(m.host, host))
            ),
            None,
        )
        if mounted is not None and not mounted.aws_api:
            return mounted.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        request = self._read(environ, body)
        operation = read_operation(request)
        protocol = _protocol(request.service, operation)
        try:
            self._admit(request, operation, protocol)
        except AwsError as error:
            status, headers, payload = error.status, *self._serialise_error(protocol, error)
            start_response(f"{status} Error", list(headers.items()))
            return [payload]
        environ["wsgi.input"] = io.BytesIO(body)
        if mounted is not None:
            return mounted.app(environ, start_response)
        found = self._find(request, operation)
        if found is None:
            answer = self.moto_app(environ, start_response)
            if _may_write(request):
                changes.notify()
            return answer
        handler, op_name, protocol, params = found
        ctx = Context(
            service=request.service or "",
            operation=op_name,
            region=request.region or "us-east-1",
            account_id=self.account_id,
            standin=self.standin,
            request=request,
            layer=self,
            protocol=protocol,
            _environ=environ,
        )
        try:
            result = handler(ctx, params)
            status, headers, payload = 200, *self._serialise(protocol, op_name, result)
        except AwsError as error:
            status, headers, payload = error.status, *self._serialise_error(protocol, error)
        if _may_write(request):
            changes.notify()
        start_response(f"{status} {'OK' if status < 400 else 'Error'}", list(headers.items()))
        return [payload]

    def _admit(self, request: Request, operation: tuple[str, str, dict] | None, protocol: str) -> None:
        """Refuse, as AWS would, a request IAM does not allow its principal."""
        from standin.iam.enforcement import authorize_request

        authorize_request(
            self.standin, request, operation, self.account_id, protocol in ("json", "rest-json")
        )

    def _read(self, environ: dict, body: bytes) -> Request:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        access_key, region, service = _parse_credential(headers.get("authorization", ""))
        if service is None:
            service, region = _service_from_host(headers.get("host", ""))
        service = _SERVICE_ALIASES.get(service or "", service)
        return Request(
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            headers=headers,
            body=body,
            service=service,
            region=region,
            access_key=access_key,
        )

    @staticmethod
    def _find(
        request: Request, operation: tuple[str, str, dict] | None
    ) -> tuple[Handler, str, str, dict] | None:
        if operation is None:
            return None
        op_name, protocol, params = operation
        handler = _HANDLERS.get((request.service or "", op_name))
        return None if handler is None else (handler, op_name, protocol, params)

    @staticmethod
    def _serialise(protocol: str, op_name: str, result: dict) -> tuple[dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        if protocol == "query":
            body = (
                f'<{op_name}Response xmlns="https://stand-in.local/doc/">'
                f"{_xml(result or {}, op_name + 'Result')}"
                f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op_name}Response>"
            )
            return {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()
        content_type = "application/json" if protocol == "rest-json" else "application/x-amz-json-1.1"
        payload = json.dumps(result or {}, default=_json_default).encode()
        return {"Content-Type": content_type, "x-amzn-RequestId": request_id}, payload

    @staticmethod
    def _serialise_error(protocol: str, error: AwsError) -> tuple[dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        if protocol == "rest-xml":
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>"
            )
            return {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body.encode()
        if protocol == "query":
            body = (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
            return {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()
        payload = json.dumps({"__type": error.code, "message": error.message}).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": error.code,
        }
        return headers, payload
