"""`invoke_endpoint` (sagemaker-runtime) for endpoints deployed from a model package or a model artifact.

endpoint → endpoint config → model → model package → `ModelDataUrl` → `model.tar.gz` untarred once into a
cache folder → `xgboost-model` loaded with XGBoost (its own format) → the SageMaker XGBoost container's
default inference contract: text/csv rows without the label in, one prediction per line out.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from standin import engines, s3util

log = logging.getLogger(__name__)
ClientFactory = Callable[[str], Any]
MODEL_FILE = "xgboost-model"
CSV_TYPES = ("text/csv", "text/plain")


class InvokeError(Exception):
    """An answer AWS would give instead of a prediction: code, message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass
class LoadedModel:
    model_data_url: str
    etag: str
    booster: Any


def model_data_url(clients: ClientFactory, endpoint_name: str, account_id: str) -> tuple[str, str]:
    """The endpoint's first variant's model artifact URL, following a model package if the model names one."""
    sm = clients("sagemaker")
    try:
        endpoint = sm.describe_endpoint(EndpointName=endpoint_name)
    except Exception:  # noqa: BLE001 - any failure to read it is the endpoint not found
        raise InvokeError(
            "ValidationError", f"Endpoint {endpoint_name} of account {account_id} not found.", 400
        ) from None
    if endpoint.get("EndpointStatus") != "InService":
        raise InvokeError(
            "ValidationError",
            f"Endpoint {endpoint_name} is {endpoint.get('EndpointStatus')}, not InService.",
            400,
        )
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    variants = config.get("ProductionVariants") or []
    if not variants:
        raise InvokeError(
            "ModelError", f"Endpoint config {config['EndpointConfigName']} has no variants.", 424
        )
    variant = variants[0]
    try:
        model = sm.describe_model(ModelName=variant["ModelName"])
    except Exception:  # noqa: BLE001 - any failure to read it is the model's error
        raise InvokeError(
            "ModelError",
            f"Model {variant['ModelName']} of endpoint config {config['EndpointConfigName']} does not exist "
            "(deleted or replaced); update the endpoint to a config whose model exists.",
            424,
        ) from None
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    url = container.get("ModelDataUrl")
    package = container.get("ModelPackageName")
    if package:
        spec = sm.describe_model_package(ModelPackageName=package).get("InferenceSpecification") or {}
        containers = spec.get("Containers") or [{}]
        url = containers[0].get("ModelDataUrl") or url
    if not url:
        raise InvokeError(
            "ModelError",
            f"Model {variant['ModelName']} has neither ModelDataUrl nor a model package with one.",
            424,
        )
    return url, variant.get("VariantName", "AllTraffic")


class EndpointRuntime:
    """Loads each model artifact once (keyed by URL and ETag) and predicts with it."""

    def __init__(
        self, clients: ClientFactory, cache_dir: Path | None = None, account_id: str = "123456789012"
    ):
        self.clients = clients
        self.account_id = account_id
        self.cache_dir = cache_dir or Path(tempfile.mkdtemp(prefix="standin-models-"))
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def load(self, url: str) -> LoadedModel:
        s3 = self.clients("s3")
        bucket, key = s3util.split_s3_uri(url, "ModelDataUrl")
        try:
            etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]
        except Exception:  # noqa: BLE001 - any failure to read it is the model's error
            raise InvokeError("ModelError", f"The model artifact {url} cannot be read.", 424) from None
        with self._lock:
            cached = self._models.get(url)
            if cached and cached.etag == etag:
                return cached
            folder = self.cache_dir / f"m{len(self._models)}-{self.loads}"
            s3util.untar_bytes(s3util.read_object(s3, url, "ModelDataUrl"), folder)
            path = folder / MODEL_FILE
            if not path.is_file():
                found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
                raise InvokeError(
                    "ModelError",
                    f"{url} holds no {MODEL_FILE} file (found: {found}); save the model there.",
                    424,
                )
            import xgboost

            booster = xgboost.Booster()
            try:
                booster.load_model(bytearray(path.read_bytes()))  # the buffer form detects the format
            except xgboost.core.XGBoostError as exc:
                raise InvokeError("ModelError", f"XGBoost cannot load {url}: {exc}", 424) from exc
            loaded = LoadedModel(url, etag, booster)
            self._models[url] = loaded
            self.loads += 1
            return loaded

    def invoke(
        self, endpoint_name: str, body: bytes, content_type: str | None, accept: str | None = None
    ) -> tuple[bytes, str, str]:
        """Returns (payload, content type, invoked variant)."""
        url, variant = model_data_url(self.clients, endpoint_name, self.account_id)
        model = self.load(url)
        kind = (content_type or "text/csv").split(";")[0].strip().lower()
        if kind not in CSV_TYPES:
            raise InvokeError(
                "ModelError",
                f"Content type {content_type!r} is not supported by this model; "
                "send text/csv rows without the label.",
                415,
            )
        rows = parse_csv(body)
        predictions = predict(model.booster, rows)
        out_type = (accept or "text/csv").split(",")[0].strip() or "text/csv"
        if out_type == "application/json":
            return (
                json.dumps({"predictions": [{"score": p} for p in predictions]}).encode(),
                out_type,
                variant,
            )
        return ("\n".join(_fmt(p) for p in predictions) + "\n").encode(), "text/csv", variant


def parse_csv(body: bytes) -> list[list[float]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvokeError("ModelError", "The text/csv body is not UTF-8 text.", 400) from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append([float(cell) if cell.strip() else float("nan") for cell in line.split(",")])
        except ValueError:
            raise InvokeError(
                "ModelError", f"Row {number} of the text/csv body is not all numbers: {line!r}", 400
            ) from None
    if not rows:
        raise InvokeError("ModelError", "The text/csv body has no rows.", 400)
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise InvokeError(
            "ModelError", f"The text/csv rows have different numbers of columns: {sorted(widths)}", 400
        )
    return rows


def predict(booster: Any, rows: list[list[float]]) -> list[float]:
    import numpy as np
    import xgboost

    expected = booster.num_features()
    if rows and len(rows[0]) != expected:
        raise InvokeError(
            "ModelError",
            f"The model expects {expected} features per row, the request has {len(rows[0])} "
            "(send the features without the label column).",
            400,
        )
    matrix = xgboost.DMatrix(np.asarray(rows, dtype=float))
    return [float(v) for v in booster.predict(matrix)]


def _fmt(value: float) -> str:
    return repr(float(value))


# -------------------------------------------------------------------------------------------- HTTP
# sagemaker-runtime is a REST protocol with a raw payload (POST /endpoints/{name}/invocations), which the
# dispatch registry's JSON handlers cannot express: it is mounted as a plain WSGI app on the layer.
_INVOKE_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/")


def wsgi_app(standin: Any) -> Callable[[dict, Callable], list[bytes]]:
    """The WSGI app answering InvokeEndpoint for `standin`; anything else under /endpoints/ goes to moto."""

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        match = _INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if not match or environ.get("REQUEST_METHOD") != "POST":
            return standin.layer.moto_app(environ, start_response)
        name = unquote(match.group("name"))
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region = scope.group("region") if scope else standin.region
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        runtime = standin.layer.store(
            "endpoint_runtime",
            standin.account_id,
            region,
            lambda: EndpointRuntime(
                lambda service: engines.client(standin, service, region),
                Path(standin.state_dir) / "models" / region,
                standin.account_id,
            ),
        )
        try:
            payload, content_type, variant = runtime.invoke(
                name, body, environ.get("CONTENT_TYPE"), environ.get("HTTP_ACCEPT")
            )
        except Exception as unexpected:  # a bug here must still answer like AWS, with the reason
            if isinstance(unexpected, InvokeError):
                error = unexpected
            else:
                log.exception("InvokeEndpoint %s", name)
                error = InvokeError("InternalFailure", f"{type(unexpected).__name__}: {unexpected}", 500)
            data = json.dumps({"message": error.message, "OriginalMessage": error.message}).encode()
            start_response(
                f"{error.status} Error",
                [
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", error.code),
                    ("Content-Length", str(len(data))),
                ],
            )
            return [data]
        start_response(
            "200 OK",
            [
                ("Content-Type", content_type),
                ("x-Amzn-Invoked-Production-Variant", variant),
                ("Content-Length", str(len(payload))),
            ],
        )
        return [payload]

    return app
