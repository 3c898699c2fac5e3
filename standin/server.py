"""``StandIn``: the local AWS: moto behind our layer, a loopback Git server and an HTTPS proxy, one process.

    with StandIn() as aws:
        s3 = aws.client("s3")                 # or: os.environ.update(aws.env); boto3.client("s3")
        aws.admin.create_repository("octo/models", readme="# models")
        aws.admin.authorize_connection(connection_arn)

Everything binds to 127.0.0.1; state (git repositories, certificates, logs) lives in a temporary folder
removed on ``stop()``. moto's backends are process-wide, so run one ``StandIn`` per process.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request as UrlRequest
from urllib.request import urlopen

import certifi
from werkzeug.serving import BaseWSGIServer, make_server

from standin import dispatch, engines
from standin.gitserver import GitServer
from standin.proxy import CertificateAuthority, ProxyServer

log = logging.getLogger(__name__)
DEFAULT_ACCOUNT = "123456789012"
ADMIN_PREFIX = "/_standin/"
CONNECTION_HOSTS = ("codestar-connections", "codeconnections")
_ADMIN_FIELDS = {("POST", "repositories"): ("full_name",), ("POST", "connections/authorize"): ("arn",)}


def _request_handler() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            log.debug("%s %s -> %s", self.command, self.path, code)

    return QuietHandler


class Admin:
    """What a person does outside the AWS APIs: create a repository on "GitHub", authorise a connection."""

    def __init__(self, standin: StandIn) -> None:
        self._standin = standin

    def create_repository(self, full_name: str, readme: str | None = None, branch: str = "main") -> str:
        """Create ``owner/repo`` on the local git server (one README commit if given); returns its URL."""
        self._standin.git.create_repository(full_name, readme=readme, branch=branch)
        return self._standin.git.clone_url(full_name)

    def authorize_connection(self, arn: str) -> dict:
        """Mark a PENDING connection AVAILABLE (the console's handshake); KeyError if it does not exist."""
        from standin.connections.state import authorize_connection

        return authorize_connection(self._standin.layer, arn).describe()


class RemoteAdmin:
    """The admin API of a stand-in running in another process (``python -m standin``), over HTTP."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")

    def _post(self, path: str, payload: dict) -> dict:
        request = UrlRequest(
            f"{self.endpoint_url}{ADMIN_PREFIX}{path}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urlopen(request, timeout=30) as response:  # a loopback URL we were given
                return json.loads(response.read() or b"{}")
        except HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("error", error.reason)
            raise RuntimeError(f"stand-in admin {path}: {detail}") from None

    def create_repository(self, full_name: str, readme: str | None = None, branch: str = "main") -> str:
        return self._post("repositories", {"full_name": full_name, "readme": readme, "branch": branch})["url"]

    def authorize_connection(self, arn: str) -> dict:
        return self._post("connections/authorize", {"arn": arn})["connection"]

    def reset(self) -> None:
        self._post("reset", {})


class StandIn:
    """The local AWS stand-in; use as a context manager or call ``start()``/``stop()``."""

    def __init__(
        self,
        region: str | None = None,
        account_id: str = DEFAULT_ACCOUNT,
        port: int = 0,
        proxy_port: int = 0,
        state_dir: Path | None = None,
        runtime: bool = True,
    ) -> None:
        """``runtime=False`` answers every call but runs nothing (no pipelines, no endpoints): tests of
        the APIs use it so that pipelines they create do not start working in the background."""
        env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        self.region = region or env_region or "us-east-1"
        self.account_id = account_id
        self._port = port
        self._proxy_port = proxy_port
        self._own_state = state_dir is None
        self._runtime = runtime
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="standin-"))
        self.admin = Admin(self)
        self.layer: dispatch.Layer
        self.git: GitServer
        self.proxy: ProxyServer
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.started_seconds = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> StandIn:
        began = time.perf_counter()
        from moto.server import DomainDispatcherApplication, create_backend_app

        dispatch.load_handler_modules()
        # moto's backends live in the process, not in a server: a new stand-in starts from an empty account
        # even when another one ran in this process before (the demo, then a bench, say).
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.layer = dispatch.Layer(DomainDispatcherApplication(create_backend_app), self, self.account_id)
        self.git = GitServer(self.state_dir / "git", authorize=self._git_authorize, on_push=self._git_pushed)
        self.git.start()
        self.layer.mount("/git-http/", self.git.wsgi_app)
        self.layer.mount(ADMIN_PREFIX, self._admin_app)
        self._server = make_server(
            "127.0.0.1", self._port, self.layer, threaded=True, request_handler=_request_handler()
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="standin", daemon=True)
        self._thread.start()
        authority = CertificateAuthority(self.state_dir / "tls")
        self.proxy = ProxyServer(("127.0.0.1", self._server.server_port), authority, self._proxy_port).start()
        bundle = self.state_dir / "tls" / "bundle.pem"
        bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + authority.cert_path.read_bytes())
        engines.bind(self)
        if self._runtime:
            from standin import runtime

            runtime.install(self)
        self.started_seconds = time.perf_counter() - began
        return self

    def stop(self) -> None:
        engines.release(self)
        if self._server is not None:
            self.proxy.stop()
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self.git.stop()
            self._server = None
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget everything: moto's backends, the layer's stores, git repositories."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.layer.reset()
        dispatch.run_reset_hooks(self)
        for child in self.git.root.iterdir():
            if child.name != ".home":
                shutil.rmtree(child, ignore_errors=True)

    # -- what clients need -----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not started: call start() or use it as a context manager")
        return self._server.server_port

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> str:
        return str(self.proxy.authority.cert_path)

    @property
    def env(self) -> dict[str, str]:
        """The environment that points AWS tools, SDKs and git at the stand-in."""
        ca = self.ca_bundle
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "HTTPS_PROXY": self.proxy.url,
            "https_proxy": self.proxy.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "AWS_CA_BUNDLE": ca,
            "REQUESTS_CA_BUNDLE": str(self.state_dir / "tls" / "bundle.pem"),
            "GIT_SSL_CAINFO": ca,
            "AWS_MAX_ATTEMPTS": "2",
        }
        rules = [
            (
                f"url.{self.endpoint_url}/git-http/.insteadOf",
                f"https://{host}.{self.region}.amazonaws.com/git-http/",
            )
            for host in CONNECTION_HOSTS
        ]
        env["GIT_CONFIG_COUNT"] = str(len(rules))
        for index, (key, value) in enumerate(rules):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client pointed at the stand-in (retries kept low so that a failure shows at once)."""
        import boto3
        from botocore.config import Config

        kwargs.setdefault("region_name", self.region)
        kwargs.setdefault("config", Config(retries={"max_attempts": 2, "mode": "standard"}))
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )

    # -- callbacks and admin endpoints -----------------------------------------------------------------------

    def _git_authorize(self, connection_id: str) -> str | None:
        from standin.connections.state import git_authorize

        return git_authorize(self.layer, connection_id)

    def _git_pushed(self, full_name: str, branch: str, sha: str) -> None:
        try:
            hooks = importlib.import_module("standin.hooks")
        except ModuleNotFoundError:
            return
        callback = getattr(hooks, "git_pushed", None)
        if callback is not None:
            callback(full_name, branch, sha)

    def _admin_app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")[len(ADMIN_PREFIX) :].strip("/")
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            payload = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            missing = [f for f in _ADMIN_FIELDS.get((method, path), ()) if not payload.get(f)]
            if missing:
                fields = ", ".join(missing)
                raise ValueError(f"{method} {ADMIN_PREFIX}{path} needs the JSON field(s) {fields}")
            body: Mapping[str, Any]
            if method == "GET" and path == "env":
                status, body = 200, self.env
            elif method == "GET" and path == "health":
                status, body = 200, {"ok": True, "region": self.region, "account_id": self.account_id}
            elif method == "POST" and path == "repositories":
                url = self.admin.create_repository(
                    payload["full_name"], payload.get("readme"), payload.get("branch") or "main"
                )
                status, body = 201, {"url": url}
            elif method == "POST" and path == "connections/authorize":
                status, body = 200, {"connection": self.admin.authorize_connection(payload["arn"])}
            elif method == "POST" and path == "reset":
                self.reset()
                status, body = 200, {}
            else:
                status, body = 404, {"error": f"no admin endpoint {method} {ADMIN_PREFIX}{path}"}
        except KeyError as error:
            status, body = 404, {"error": str(error).strip("'\"")}
        except (ValueError, FileExistsError) as error:
            status, body = 400, {"error": str(error)}
        data = json.dumps(body).encode()
        start_response(
            f"{status} {'OK' if status < 400 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]
