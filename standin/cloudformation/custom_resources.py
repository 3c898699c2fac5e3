"""CloudFormation's custom resources (``AWS::CloudFormation::CustomResource``, ``Custom::*``).

The ServiceToken's function runs in-process (``standin.awslambda``) with a CloudFormation event whose
``ResponseURL`` is a loopback server of the running stand-in, which collects the answer; ``FAILED``, a crash
or no answer fail the resource with the reason. ``standin.moto_fixes`` puts ``CustomResource`` in place of
moto's own custom resource model (which would start Docker).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from moto.cloudformation.models import cloudformation_backends
from moto.core.common_models import CloudFormationModel

from standin import engines
from standin.awslambda import invoke as awslambda
from standin.cloudformation.dependencies import lock_released
from standin.cloudformation.resource_types import _StandInType

log = logging.getLogger(__name__)


def _stack_env(account_id: str, region: str, stack_id: str) -> dict[str, str]:
    """What the engine gave the stack (``standin_env``, the stand-in's ``.env``), else the running
    stand-in's."""
    backend = cloudformation_backends[account_id][region]
    stack = backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)
    given = getattr(stack, "standin_env", None)
    if given:
        return dict(given)
    return dict(engines.current().env) if engines.bound() else {}


class _ResponseServer:
    """Collects the custom resources' response PUTs (AWS gives the function a pre-signed S3 URL)."""

    def __init__(self) -> None:
        self._responses: dict[str, bytes] = {}
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def close(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def url(self, token: str) -> str:
        with self._lock:
            if self._server is None:
                self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
                self._server.daemon_threads = True
                threading.Thread(target=self._server.serve_forever, name="cfn-responses", daemon=True).start()
            self._events[token] = threading.Event()
            return (
                f"http://127.0.0.1:{self._server.server_port}/cloudformation-custom-resource-response/{token}"
            )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # http.server's naming
                token = self.path.rstrip("/").rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with collector._lock:
                    known = token in collector._events
                    if known:
                        collector._responses[token] = body
                        collector._events[token].set()
                self.send_response(200 if known else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
                log.debug("cfn-response " + format, *args)

        return Handler

    def take(self, token: str, timeout: float) -> bytes | None:
        event = self._events.get(token)
        if event is None or not event.wait(timeout):
            return None
        with self._lock:
            self._events.pop(token, None)
            return self._responses.pop(token, None)


def _responses() -> _ResponseServer:
    """The running stand-in's response server (started on its first custom resource, closed when it stops)."""
    return engines.engine_state(engines.current(), "cfn_custom_resource_responses", _ResponseServer)


@engines.stops_with("cfn_custom_resource_responses")
def _close_responses(server: _ResponseServer) -> None:
    server.close()  # the next custom resource starts another


# How long to wait for a response PUT after the handler returned (a function may answer from a thread).
RESPONSE_GRACE_SECONDS = 5.0


class CustomResourceFailed(RuntimeError):
    """The function answered FAILED, answered badly, or never answered."""


def invoke_custom_resource(
    account_id: str,
    region: str,
    stack_id: str,
    logical_id: str,
    resource_type: str,
    request_type: str,
    properties: dict,
    old_properties: dict | None = None,
    physical_id: str | None = None,
) -> dict:
    """Send one CloudFormation request to the function of ``properties["ServiceToken"]``; returns its response
    (``Status``, ``PhysicalResourceId``, ``Data``, ...) or raises ``CustomResourceFailed`` with the reason."""
    service_token = properties.get("ServiceToken")
    if not service_token:
        raise CustomResourceFailed(
            "Property ServiceToken cannot be empty (the ARN of the function to invoke)."
        )
    request_id = str(uuid.uuid4())
    token = uuid.uuid4().hex
    responses = _responses()
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": responses.url(token),
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    if old_properties is not None:
        event["OldResourceProperties"] = old_properties
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    env = _stack_env(account_id, region, stack_id)
    # The function runs for as long as its build does: the stack's other resources go on meanwhile.
    with lock_released():
        try:
            awslambda.invoke(account_id, region, service_token, event, env)
        except Exception as error:  # the function's own failure, reported like CloudFormation
            body = responses.take(token, 0)
            if body is None:
                raise CustomResourceFailed(
                    f"Custom resource function {service_token} failed without answering: "
                    f"{type(error).__name__}: {error} (RequestId: {request_id})"
                ) from error
        else:
            body = responses.take(token, RESPONSE_GRACE_SECONDS)
    if body is None:
        raise CustomResourceFailed(
            f"Custom resource function {service_token} returned without sending a response to ResponseURL "
            f"(RequestId: {request_id}); CloudFormation would wait for it until the stack times out."
        )
    try:
        response = json.loads(body)
    except ValueError as error:
        raise CustomResourceFailed(f"Response is not valid JSON: {body[:200]!r}") from error
    for key, expected in (
        ("StackId", stack_id),
        ("RequestId", request_id),
        ("LogicalResourceId", logical_id),
    ):
        if response.get(key) != expected:
            raise CustomResourceFailed(
                f"Response is not valid: {key} {response.get(key)!r}, expected {expected!r}"
            )
    if response.get("Status") != "SUCCESS":
        reason = response.get("Reason") or "(no reason given)"
        raise CustomResourceFailed(
            f"Received response status [{response.get('Status')}] from custom resource. "
            f"Message returned: {reason} (RequestId: {request_id})"
        )
    return response


class CustomResource(_StandInType, CloudFormationModel):
    """``AWS::CloudFormation::CustomResource`` and ``Custom::*``: the ServiceToken's function, run in-process.
    Ref: the PhysicalResourceId it answered; GetAtt: keys of its ``Data``."""

    TYPE, NAME_PROPERTY = "AWS::CloudFormation::CustomResource", ""

    def __init__(
        self,
        account_id: str,
        region: str,
        stack_id: str,
        logical_id: str,
        resource_type: str,
        physical_id: str,
        properties: dict,
        data: dict,
    ) -> None:
        super().__init__(account_id, region, physical_id)
        self.stack_id, self.logical_id, self.resource_type = stack_id, logical_id, resource_type
        self.properties, self.data = properties, data

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # whatever the function answers in Data; get_cfn_attribute refuses the rest

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.data:
            return self.data[attribute_name]
        raise ValueError(
            f"CustomResource attribute error: Vendor response doesn't contain {attribute_name} key "
            f"in object {self.stack_id}|{self.logical_id}|{self.name}"
        )

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> CustomResource:
        properties = dict(cloudformation_json.get("Properties") or {})
        stack_id, logical_id = kwargs["StackId"], kwargs["LogicalId"]
        resource_type = kwargs.get("ResourceType", cls.cloudformation_type())
        response = invoke_custom_resource(
            account_id, region_name, stack_id, logical_id, resource_type, "Create", properties
        )
        physical_id = response.get("PhysicalResourceId") or resource_name
        return cls(
            account_id,
            region_name,
            stack_id,
            logical_id,
            resource_type,
            physical_id,
            properties,
            dict(response.get("Data") or {}),
        )

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: CustomResource,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> CustomResource:
        properties = dict(cloudformation_json.get("Properties") or {})
        if properties.get("ServiceToken") != original_resource.properties.get("ServiceToken"):
            # CloudFormation's refusal: a custom resource keeps the function it was created with.
            raise CustomResourceFailed("Modifying service token is not allowed.")
        response = invoke_custom_resource(
            account_id,
            region_name,
            original_resource.stack_id,
            original_resource.logical_id,
            original_resource.resource_type,
            "Update",
            properties,
            original_resource.properties,
            original_resource.physical_resource_id,
        )
        physical_id = response.get("PhysicalResourceId") or original_resource.physical_resource_id
        return cls(
            account_id,
            region_name,
            original_resource.stack_id,
            original_resource.logical_id,
            original_resource.resource_type,
            physical_id,
            properties,
            dict(response.get("Data") or {}),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        invoke_custom_resource(
            account_id,
            region_name,
            self.stack_id,
            self.logical_id,
            self.resource_type,
            "Delete",
            self.properties,
            None,
            self.name,
        )
