"""CloudFormation for the stand-in: the resource types moto skips, the custom resource, and stacks that run
in the background with per-resource events, rollback and deletion as AWS does.

Resource types are registered through moto's own extension point: moto maps a template's ``Type`` to the
direct subclasses of ``CloudFormationModel`` (``moto.cloudformation.parsing.get_model_map``), so defining the
classes below is the registration (the cached map is cleared once on import). They keep their state in moto's
backends (CodeBuild, CodePipeline, SageMaker), so the services' own APIs see what a stack made.

``create_stack_async`` is the one way stacks get made (``CreateStack``, Service Catalog provisioning, the
pipelines' CloudFormation actions): it validates synchronously (template, parameters), then creates
resources in dependency order in a thread; ``describe_stacks`` shows ``CREATE_IN_PROGRESS`` then
``CREATE_COMPLETE``, or ``ROLLBACK_COMPLETE`` with a ``CREATE_FAILED`` event naming the resource and why.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from moto.backends import get_backend
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import Event, Stack, cloudformation_backends
from moto.cloudformation.utils import generate_stack_id, get_stack_from_s3_url
from moto.codepipeline.models import CodePipeline
from moto.core.common_models import CloudFormationModel

from standin import hooks, lambdas
from standin.dispatch import AwsError, Context, on_reset, operation

log = logging.getLogger(__name__)

# The stand-in's environment for code a stack runs (the custom resource's Lambda), by stack id.
_STACK_ENV: dict[str, dict[str, str]] = {}
_DEFAULT_ENV: dict[str, str] = {}
_ENGINE = threading.local()


def _backend(service: str, account_id: str, region: str) -> Any:
    return get_backend(service)[account_id][region]  # type: ignore[call-overload]


def _camel(value: Any, keep: tuple[str, ...] = ("Configuration",)) -> Any:
    """CloudFormation's PascalCase properties to the API's camelCase; free-form maps (``keep``) stay."""
    if isinstance(value, list):
        return [_camel(item, keep) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {}
    for key, item in value.items():
        name = "buildspec" if key == "BuildSpec" else key[:1].lower() + key[1:]
        converted[name] = item if key in keep else _camel(item, keep)
    return converted


def _arn(service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account_id}:{resource}"


# --- resource types -----------------------------------------------------------------------------------------


class _StandInType:
    """What the stand-in's resource types share: a name (and ARN), Ref, GetAtt from a table, replacement on
    update. A mixin, not a base class: moto finds types among ``CloudFormationModel``'s *direct*
    subclasses, so each type names ``CloudFormationModel`` as a base itself."""

    TYPE: ClassVar[str]
    NAME_PROPERTY: ClassVar[str]
    REF_IS_ARN: ClassVar[bool] = False
    ATTRIBUTES: ClassVar[dict[str, str]] = {}  # GetAtt name -> attribute of the instance

    def __init__(self, account_id: str, region: str, name: str, arn: str = "") -> None:
        self.account_id, self.region, self.name, self.arn = account_id, region, name, arn

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @property
    def physical_resource_id(self) -> str:
        return self.arn if self.REF_IS_ARN else self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.ATTRIBUTES[attribute_name])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> Any:
        """Replace: delete, then create under the template's name if it gives one, else the old name."""
        name = original_resource.name
        if cls.NAME_PROPERTY in (cloudformation_json.get("Properties") or {}):
            name = new_resource_name
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)  # type: ignore[attr-defined]


class CodeBuildProject(_StandInType, CloudFormationModel):
    """``AWS::CodeBuild::Project`` in moto's CodeBuild backend. Ref: name; GetAtt: Arn."""

    TYPE, NAME_PROPERTY, ATTRIBUTES = "AWS::CodeBuild::Project", "Name", {"Arn": "arn"}

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> CodeBuildProject:
        spec = _camel(cloudformation_json.get("Properties") or {})
        for required in ("source", "artifacts", "environment", "serviceRole"):
            if required not in spec:
                raise ValueError(f"Property {required[:1].upper() + required[1:]} cannot be empty.")
        backend = _backend("codebuild", account_id, region_name)
        metadata = backend.create_project(
            project_name=resource_name,
            description=spec.get("description"),
            project_source=spec["source"],
            artifacts=spec["artifacts"],
            environment=spec["environment"],
            service_role=spec["serviceRole"],
            tags=spec.get("tags"),
            cache=spec.get("cache"),
            timeout=spec.get("timeoutInMinutes"),
            queued_timeout=spec.get("queuedTimeoutInMinutes"),
            source_version=spec.get("sourceVersion"),
            logs_config=spec.get("logsConfig"),
            vpc_config=spec.get("vpcConfig"),
        )
        for extra in ("secondarySources", "secondaryArtifacts", "secondarySourceVersions"):
            if spec.get(extra):
                metadata[extra] = spec[extra]
        return cls(
            account_id,
            region_name,
            resource_name,
            _arn("codebuild", region_name, account_id, f"project/{resource_name}"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _backend("codebuild", account_id, region_name)
        backend.codebuild_projects.pop(self.name, None)
        backend.build_history.pop(self.name, None)


class CodePipelinePipeline(_StandInType, CloudFormationModel):
    """``AWS::CodePipeline::Pipeline`` in moto's CodePipeline backend; tells ``hooks`` (AWS starts a run).
    Ref: name; GetAtt: Version."""

    TYPE, NAME_PROPERTY, ATTRIBUTES = "AWS::CodePipeline::Pipeline", "Name", {"Version": "version"}

    @property
    def version(self) -> str:
        pipeline = _backend("codepipeline", self.account_id, self.region).pipelines.get(self.name)
        return str(pipeline.pipeline["version"]) if pipeline else "1"

    @staticmethod
    def _declaration(name: str, properties: dict) -> tuple[dict, list[dict]]:
        spec = _camel(properties)
        for cfn_only in ("restartExecutionOnUpdate", "disableInboundStageTransitions", "name"):
            spec.pop(cfn_only, None)
        tags = spec.pop("tags", None) or []
        spec.setdefault("pipelineType", "V1")
        spec.setdefault("executionMode", "SUPERSEDED")
        return {"name": name, **spec}, tags

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> CodePipelinePipeline:
        declaration, tags = cls._declaration(resource_name, cloudformation_json.get("Properties") or {})
        _check_pipeline_role(account_id, declaration.get("roleArn", ""))
        backend = _backend("codepipeline", account_id, region_name)
        if resource_name in backend.pipelines:
            raise ValueError(
                f"A pipeline with the name '{resource_name}' already exists in account '{account_id}'"
            )
        if len(declaration.get("stages") or []) < 2:
            raise ValueError(
                "Pipeline has only 1 stage(s). There should be a minimum of 2 stages in a pipeline"
            )
        # moto's create_pipeline reads a trust policy's Principal.Service only as a string; AWS takes lists.
        pipeline = CodePipeline(account_id, region_name, declaration)
        pipeline.tags.update({tag["key"]: tag["value"] for tag in tags})
        backend.pipelines[resource_name] = pipeline
        hooks.pipeline_created(account_id, region_name, resource_name)
        return cls(account_id, region_name, resource_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CodePipelinePipeline,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> CodePipelinePipeline:
        backend = _backend("codepipeline", account_id, region_name)
        name = original_resource.name
        declaration, _ = cls._declaration(name, cloudformation_json.get("Properties") or {})
        current = backend.pipelines.get(name)
        if current is None:
            return cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
        declaration["version"] = int(current.pipeline.get("version", 1)) + 1
        current.pipeline = current.add_default_values(declaration)
        hooks.pipeline_updated(account_id, region_name, name)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        _backend("codepipeline", account_id, region_name).delete_pipeline(self.name)
        hooks.pipeline_deleted(account_id, region_name, self.name)


def _check_pipeline_role(account_id: str, role_arn: str) -> None:
    """The role must exist and trust codepipeline.amazonaws.com (Principal.Service a string or a list)."""
    iam = get_backend("iam")[account_id]["aws"]  # type: ignore[call-overload]
    refusal = f"CodePipeline is not authorized to perform AssumeRole on role {role_arn}"
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception as error:  # noqa: BLE001 - moto's IAMNotFoundException and malformed ARNs alike
        raise ValueError(refusal) from error
    statements = json.loads(role.assume_role_policy_document).get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        services = (statement.get("Principal") or {}).get("Service") or []
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "codepipeline.amazonaws.com" in services:
            return
    raise ValueError(refusal)


def code_repositories(account_id: str, region: str) -> dict[str, dict]:
    """The SageMaker code repositories of an account and region (moto has none), by name."""
    backend = _backend("sagemaker", account_id, region)
    if not hasattr(backend, "standin_code_repositories"):
        backend.standin_code_repositories = {}
    return backend.standin_code_repositories


class SageMakerCodeRepository(_StandInType, CloudFormationModel):
    """``AWS::SageMaker::CodeRepository``. Ref: ARN; GetAtt: CodeRepositoryName."""

    TYPE, NAME_PROPERTY, REF_IS_ARN = "AWS::SageMaker::CodeRepository", "CodeRepositoryName", True
    ATTRIBUTES = {"CodeRepositoryName": "name"}

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> SageMakerCodeRepository:
        properties = cloudformation_json.get("Properties") or {}
        git = properties.get("GitConfig") or {}
        if not git.get("RepositoryUrl"):
            raise ValueError("Property GitConfig.RepositoryUrl cannot be empty.")
        # SageMaker names allow letters, digits and hyphens, at most 63 characters.
        name = re.sub(r"[^A-Za-z0-9-]", "-", resource_name)[:63]
        repository = cls(
            account_id,
            region_name,
            name,
            _arn("sagemaker", region_name, account_id, f"code-repository/{name.lower()}"),
        )
        store = code_repositories(account_id, region_name)
        if name in store:
            raise ValueError(f"Code repository {name} already exists.")
        now = time.time()
        store[name] = {
            "CodeRepositoryName": name,
            "CodeRepositoryArn": repository.arn,
            "CreationTime": now,
            "LastModifiedTime": now,
            "GitConfig": {k: v for k, v in git.items() if k in ("RepositoryUrl", "Branch", "SecretArn")},
            "Tags": properties.get("Tags") or [],
        }
        return repository

    def delete(self, account_id: str, region_name: str) -> None:
        code_repositories(account_id, region_name).pop(self.name, None)


class SageMakerModelPackageGroup(_StandInType, CloudFormationModel):
    """``AWS::SageMaker::ModelPackageGroup`` in moto's model registry. Ref: ARN; GetAtt: ModelPackageGroupArn,
    CreationTime, ModelPackageGroupStatus."""

    TYPE, NAME_PROPERTY, REF_IS_ARN = "AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupName", True
    ATTRIBUTES = {
        "ModelPackageGroupArn": "arn",
        "CreationTime": "creation_time",
        "ModelPackageGroupStatus": "status",
    }

    def _group(self) -> Any:
        return _backend("sagemaker", self.account_id, self.region).model_package_groups.get(self.name)

    @property
    def creation_time(self) -> str:
        return str(getattr(self._group(), "creation_time", ""))

    @property
    def status(self) -> str:
        return str(getattr(self._group(), "model_package_group_status", "Completed"))

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> SageMakerModelPackageGroup:
        properties = cloudformation_json.get("Properties") or {}
        backend = _backend("sagemaker", account_id, region_name)
        name = resource_name[:63]
        if name in backend.model_package_groups:
            arn = _arn("sagemaker", region_name, account_id, f"model-package-group/{name.lower()}")
            raise ValueError(f"Model Package Group already exists: {arn}")
        arn = backend.create_model_package_group(
            model_package_group_name=name,
            model_package_group_description=properties.get("ModelPackageGroupDescription", ""),
            tags=properties.get("Tags") or [],
        )
        return cls(account_id, region_name, name, arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SageMakerModelPackageGroup,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> SageMakerModelPackageGroup:
        # The group keeps its name and its model versions; only the description and tags change.
        group = _backend("sagemaker", account_id, region_name).model_package_groups.get(
            original_resource.name
        )
        if group is not None:
            properties = cloudformation_json.get("Properties") or {}
            group.model_package_group_description = properties.get("ModelPackageGroupDescription", "")
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        _backend("sagemaker", account_id, region_name).model_package_groups.pop(self.name, None)


class S3BucketPolicy(CloudFormationModel):
    """``AWS::S3::BucketPolicy`` on a bucket of moto's S3 (stored, not enforced, as moto does)."""

    def __init__(self, account_id: str, bucket: str, physical_id: str) -> None:
        self.account_id, self.bucket, self._physical_id = account_id, bucket, physical_id

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> S3BucketPolicy:
        properties = cloudformation_json.get("Properties") or {}
        bucket, document = properties.get("Bucket"), properties.get("PolicyDocument")
        if not bucket or not document:
            raise ValueError("Properties Bucket and PolicyDocument are required for AWS::S3::BucketPolicy.")
        s3 = get_backend("s3")[account_id]["aws"]  # type: ignore[call-overload]
        text = document if isinstance(document, str) else json.dumps(document)
        s3.put_bucket_policy(bucket, text.encode())
        return cls(account_id, bucket, resource_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: S3BucketPolicy,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> S3BucketPolicy:
        return cls.create_from_cloudformation_json(
            original_resource.physical_resource_id, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        s3 = get_backend("s3")[account_id]["aws"]  # type: ignore[call-overload]
        try:
            s3.delete_bucket_policy(self.bucket)
        except Exception:  # noqa: BLE001 - the bucket is gone already (deleted first or retained elsewhere)
            log.debug("bucket policy of %s: bucket already gone", self.bucket)


# --- the custom resource ------------------------------------------------------------------------------------


class _ResponseServer:
    """Collects the custom resources' response PUTs (AWS gives the function a pre-signed S3 URL)."""

    def __init__(self) -> None:
        self._responses: dict[str, bytes] = {}
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

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
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
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

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
                log.debug("cfn-response " + format, *args)

        return Handler

    def take(self, token: str, timeout: float) -> bytes | None:
        event = self._events.get(token)
        if event is None or not event.wait(timeout):
            return None
        with self._lock:
            self._events.pop(token, None)
            return self._responses.pop(token, None)


RESPONSES = _ResponseServer()
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
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": RESPONSES.url(token),
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
    env = _STACK_ENV.get(stack_id) or _DEFAULT_ENV
    try:
        lambdas.invoke(account_id, region, service_token, event, env)
    except Exception as error:  # noqa: BLE001 - the function's own failure, reported like CloudFormation
        body = RESPONSES.take(token, 0)
        if body is None:
            raise CustomResourceFailed(
                f"Custom resource function {service_token} failed without answering: "
                f"{type(error).__name__}: {error} (RequestId: {request_id})"
            ) from error
    else:
        body = RESPONSES.take(token, RESPONSE_GRACE_SECONDS)
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


class CustomResource(CloudFormationModel):
    """``AWS::CloudFormation::CustomResource`` and ``Custom::*``: the ServiceToken's function, run in-process.
    Ref: the PhysicalResourceId it answered; GetAtt: keys of its ``Data``."""

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
        self.account_id, self.region, self.stack_id = account_id, region, stack_id
        self.logical_id, self.resource_type = logical_id, resource_type
        self._physical_id, self.properties, self.data = physical_id, properties, data

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFormation::CustomResource"

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.data:
            return self.data[attribute_name]
        raise ValueError(
            f"CustomResource attribute error: Vendor response doesn't contain {attribute_name} key "
            f"in object {self.stack_id}|{self.logical_id}|{self._physical_id}"
        )

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
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
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CustomResource,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> CustomResource:
        properties = dict(cloudformation_json.get("Properties") or {})
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
            self._physical_id,
        )


# moto sends ``Custom::*`` to its Docker-based model through this module-level name; ours runs the code here.
parsing.CustomModel = CustomResource  # type: ignore[misc]
for _cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cached.cache_clear()


# --- stacks -------------------------------------------------------------------------------------------------


class _StackResources(parsing.ResourceMap):
    """moto's resource map, but a reader (``describe_stack_resources``, outputs) never creates a resource:
    only the stack's own worker does. Listing shows created resources only (none for a false condition)."""

    def __getitem__(self, key: str) -> Any:
        if key in self._parsed_resources:
            return self._parsed_resources[key]
        if getattr(_ENGINE, "stack_id", None) != self.stack_id and key in self._resource_json_map:
            raise KeyError(f"{key} is not created (yet)")
        return super().__getitem__(key)

    def __iter__(self) -> Any:
        return iter([k for k in self._resource_json_map if self._parsed_resources.get(k) is not None])

    def __len__(self) -> int:
        return len(list(iter(self)))


class _NoOutputs(Mapping):
    """Outputs while a stack is being created: none (AWS shows them once the stack is complete)."""

    exports: list = []

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Any:
        return iter([])

    def __len__(self) -> int:
        return 0


def references(value: Any, names: set[str]) -> set[str]:
    """Logical ids of ``names`` that ``value`` refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and item in names:
                found.add(item)
            elif key == "Fn::GetAtt":
                target = item[0] if isinstance(item, list) else str(item).split(".", 1)[0]
                if target in names:
                    found.add(target)
            elif key == "Fn::Sub":
                text = item[0] if isinstance(item, list) else item
                for ref in re.findall(r"\$\{([^!}][^}]*)\}", str(text)):
                    if ref.split(".", 1)[0] in names:
                        found.add(ref.split(".", 1)[0])
                if isinstance(item, list) and len(item) > 1:
                    found |= references(item[1], names)
            else:
                found |= references(item, names)
    elif isinstance(value, list):
        for item in value:
            found |= references(item, names)
    return found


def creation_order(resources: Mapping[str, dict]) -> list[str]:
    """Logical ids, each after what it refers to or ``DependsOn``; a cycle is a ValidationError."""
    names = set(resources)
    needs: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else list(depends)
        needs[name] = (references(resource.get("Properties") or {}, names) | set(depends)) & names
        needs[name].discard(name)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(names):
        ready = sorted(n for n in names - done if needs[n] <= done)
        if not ready:
            cycle = sorted(names - done)
            raise ValidationError(message=f"Circular dependency between resources: {cycle}")
        order.extend(ready)
        done.update(ready)
    return order


def _event(
    stack: Stack,
    logical_id: str,
    physical_id: str,
    resource_type: str,
    status: str,
    reason: str | None = None,
) -> None:
    stack.events.append(
        Event(stack.stack_id, stack.name, logical_id, physical_id or "", resource_type, status, reason, None)
    )


def _prepare_stack(
    account_id: str,
    region: str,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str],
    tags: Mapping[str, str] | None,
    role_arn: str | None,
    notification_arns: list[str] | None,
) -> Stack:
    backend = cloudformation_backends[account_id][region]
    if any(s.name == stack_name for s in backend.stacks.values()):
        raise AwsError("AlreadyExistsException", f"Stack [{stack_name}] already exists")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", stack_name or ""):
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{stack_name}' at 'stackName' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]*",
        )
    stack_id = generate_stack_id(stack_name, region, account_id)
    try:
        stack = Stack(
            stack_id=stack_id,
            name=stack_name,
            template=template_body,
            parameters=dict(parameters),
            account_id=account_id,
            region_name=region,
            notification_arns=notification_arns,
            tags=dict(tags or {}),
            role_arn=role_arn,
            cross_stack_resources=backend.exports,
        )
    except ValidationError as error:
        raise AwsError("ValidationError", str(getattr(error, "message", None) or error)) from error
    except Exception as error:  # noqa: BLE001 - moto's parameter errors and template errors alike
        raise AwsError("ValidationError", str(error)) from error
    # Loading parsed parameters and conditions only; from here on, only the worker creates resources.
    stack.resource_map.__class__ = _StackResources
    resources = stack.template_dict.get("Resources") or {}
    for logical_id, resource in list(resources.items()):
        condition = resource.get("Condition")
        if condition and not stack.resource_map.lazy_condition_map[condition]:
            del resources[logical_id]
    try:
        stack.standin_order = creation_order(resources)
    except ValidationError as error:
        raise AwsError("ValidationError", str(getattr(error, "message", None) or error)) from error
    stack.output_map = _NoOutputs()  # type: ignore[assignment]
    stack.status = "CREATE_IN_PROGRESS"
    backend.stacks[stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    return stack


def _propagate_stack_tags(stack: Stack, resource_type: str, physical: str) -> None:
    """CloudFormation copies the stack's tags to the resources it creates (a project's bucket carries
    `sagemaker:project-name`/`-id` that way); the resource's own tags win. Modelled for S3 buckets."""
    if resource_type != "AWS::S3::Bucket" or not stack.tags:
        return
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    s3 = s3_backends[stack.account_id][get_partition(stack.region_name)]
    own = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(physical).get("Tags", [])}
    s3.put_bucket_tagging(physical, {**dict(stack.tags), **own})


def _create_resources(stack: Stack, disable_rollback: bool) -> None:
    _ENGINE.stack_id = stack.stack_id
    resources = stack.template_dict.get("Resources") or {}
    failed: str | None = None
    try:
        for logical_id in stack.standin_order:
            resource_type = resources[logical_id]["Type"]
            _event(stack, logical_id, "", resource_type, "CREATE_IN_PROGRESS")
            try:
                instance = stack.resource_map[logical_id]
            except Exception as error:  # noqa: BLE001 - any failure of one resource fails the stack
                reason = getattr(error, "message", None) or str(error) or type(error).__name__
                log.info("stack %s: %s failed: %s", stack.name, logical_id, reason)
                _event(stack, logical_id, "", resource_type, "CREATE_FAILED", reason)
                failed = logical_id
                break
            if instance is None:
                _event(
                    stack,
                    logical_id,
                    "",
                    resource_type,
                    "CREATE_COMPLETE",
                    f"{resource_type} is not simulated by the stand-in; nothing was created",
                )
                continue
            instance.cf_resource_type = resource_type
            instance.logical_resource_id = logical_id
            physical = str(getattr(instance, "physical_resource_id", "") or "")
            _propagate_stack_tags(stack, resource_type, physical)
            _event(stack, logical_id, physical, resource_type, "CREATE_COMPLETE")
        if failed is None:
            backend = cloudformation_backends[stack.account_id][stack.region_name]
            stack.output_map = stack._create_output_map()
            try:
                stack.outputs  # noqa: B018 - evaluate now, so a bad output fails the stack, not a describe call
                for export in stack.exports:
                    backend.exports[export.name] = export
            except Exception as error:  # noqa: BLE001
                stack.output_map = _NoOutputs()  # type: ignore[assignment]
                _event(
                    stack,
                    stack.name,
                    stack.stack_id,
                    "AWS::CloudFormation::Stack",
                    "CREATE_FAILED",
                    f"Outputs: {error}",
                )
                failed = stack.name
        if failed is None:
            stack.mark_creation_complete()
            return
        if disable_rollback:
            stack.status = "CREATE_FAILED"
            stack._add_stack_event(
                "CREATE_FAILED", f"The following resource(s) failed to create: [{failed}]."
            )
            return
        stack.status = "ROLLBACK_IN_PROGRESS"
        stack._add_stack_event(
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{failed}]. Rollback requested by user.",
        )
        ok = _delete_resources(stack)
        stack.status = "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED"
        stack._add_stack_event(stack.status)
    finally:
        _ENGINE.stack_id = None


def _delete_resources(stack: Stack) -> bool:
    """Delete what the stack created, dependents first, with events; True when nothing failed."""
    resources = stack.template_dict.get("Resources") or {}
    parsed = stack.resource_map._parsed_resources
    ok = True
    for logical_id in reversed(getattr(stack, "standin_order", list(resources))):
        instance = parsed.get(logical_id)
        if instance is None or logical_id not in resources:
            continue
        resource_type = resources[logical_id]["Type"]
        physical = str(getattr(instance, "physical_resource_id", "") or "")
        if resources[logical_id].get("DeletionPolicy") == "Retain":
            _event(stack, logical_id, physical, resource_type, "DELETE_SKIPPED")
            parsed.pop(logical_id, None)
            continue
        _event(stack, logical_id, physical, resource_type, "DELETE_IN_PROGRESS")
        try:
            stack.resource_map._delete_resource(instance, resources[logical_id])
        except Exception as error:  # noqa: BLE001 - reported like CloudFormation, the others still go
            _event(stack, logical_id, physical, resource_type, "DELETE_FAILED", str(error))
            ok = False
            continue
        parsed.pop(logical_id, None)
        _event(stack, logical_id, physical, resource_type, "DELETE_COMPLETE")
    return ok


def create_stack_async(
    account_id: str,
    region: str,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    role_arn: str | None = None,
    disable_rollback: bool = False,
    notification_arns: list[str] | None = None,
) -> str:
    """Validate and register a stack, then create its resources in a background thread; returns the StackId.

    ``env`` is the stand-in's ``.env``: what code the stack runs (the custom resource's function) gets so
    its boto3 calls reach the stand-in. Bad templates or parameters raise ``AwsError`` before anything exists.
    """
    stack = _prepare_stack(
        account_id, region, stack_name, template_body, parameters or {}, tags, role_arn, notification_arns
    )
    if env:
        _STACK_ENV[stack.stack_id] = dict(env)
        _DEFAULT_ENV.update(env)
    thread = threading.Thread(
        target=_create_resources, args=(stack, disable_rollback), name=f"stack-{stack_name}", daemon=True
    )
    stack.standin_thread = thread
    thread.start()
    return stack.stack_id


def delete_stack_async(
    account_id: str, region: str, name_or_id: str, env: Mapping[str, str] | None = None
) -> None:
    """Delete a stack's resources in a background thread (DELETE_IN_PROGRESS, then DELETE_COMPLETE and gone
    from ``describe_stacks`` by name, or DELETE_FAILED). A stack that does not exist: nothing, as on AWS."""
    backend = cloudformation_backends[account_id][region]
    stack = backend.stacks.get(name_or_id) or next(
        (s for s in backend.stacks.values() if s.name == name_or_id), None
    )
    if stack is None:
        return
    if env:
        _STACK_ENV[stack.stack_id] = dict(env)
    thread = getattr(stack, "standin_thread", None)

    def run() -> None:
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        _ENGINE.stack_id = stack.stack_id
        try:
            stack.status = "DELETE_IN_PROGRESS"
            stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
            if not _delete_resources(stack):
                stack.status = "DELETE_FAILED"
                stack._add_stack_event("DELETE_FAILED", "The following resource(s) failed to delete.")
                return
            for export in list(stack.exports) if isinstance(stack.output_map, parsing.OutputMap) else []:
                backend.exports.pop(export.name, None)
            stack.status = "DELETE_COMPLETE"
            stack._add_stack_event("DELETE_COMPLETE")
            backend.stacks.pop(stack.stack_id, None)
            backend.deleted_stacks[stack.stack_id] = stack
            _STACK_ENV.pop(stack.stack_id, None)
        finally:
            _ENGINE.stack_id = None

    new_thread = threading.Thread(target=run, name=f"delete-{stack.name}", daemon=True)
    stack.standin_thread = new_thread
    new_thread.start()


def update_stack_async(
    account_id: str,
    region: str,
    name_or_id: str,
    template_body: str,
    parameters: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Update a stack with moto's update logic (our types replace or update in place) in a thread."""
    backend = cloudformation_backends[account_id][region]
    stack = backend.stacks.get(name_or_id) or next(
        (s for s in backend.stacks.values() if s.name == name_or_id), None
    )
    if stack is None:
        raise AwsError("ValidationError", f"Stack with id {name_or_id} does not exist")
    if stack.status.endswith("_IN_PROGRESS"):
        raise AwsError(
            "ValidationError", f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    if stack.status in ("ROLLBACK_COMPLETE", "CREATE_FAILED", "ROLLBACK_FAILED"):
        raise AwsError(
            "ValidationError", f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    if env:
        _STACK_ENV[stack.stack_id] = dict(env)
    stack.status = "UPDATE_IN_PROGRESS"

    def run() -> None:
        _ENGINE.stack_id = stack.stack_id
        try:
            stack.update(template_body, role_arn=stack.role_arn, parameters=dict(parameters or {}), tags=tags)
        except Exception as error:  # noqa: BLE001 - the update failed: reported, the stack keeps what it had
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", str(error))
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        finally:
            _ENGINE.stack_id = None

    thread = threading.Thread(target=run, name=f"update-{stack.name}", daemon=True)
    stack.standin_thread = thread
    thread.start()
    return stack.stack_id


def wait_for_stack(account_id: str, region: str, stack_id: str, timeout: float = 600) -> str:
    """Block until the stack's worker is done; returns its status (for tests and callers that need it)."""
    backend = cloudformation_backends[account_id][region]
    stack = backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)
    if stack is None:
        raise KeyError(stack_id)
    thread = getattr(stack, "standin_thread", None)
    if thread is not None:
        thread.join(timeout)
    return stack.status


@on_reset
def _forget_stack_env() -> None:
    _STACK_ENV.clear()


# --- the CloudFormation API (the stack operations that change things) ---------------------------------------


def _members(params: dict, prefix: str, key: str, value: str) -> dict[str, str]:
    found: dict[str, str] = {}
    index = 1
    while f"{prefix}.member.{index}.{key}" in params:
        found[params[f"{prefix}.member.{index}.{key}"]] = params.get(f"{prefix}.member.{index}.{value}", "")
        index += 1
    return found


def _template_from(ctx: Context, params: dict) -> str:
    if params.get("TemplateBody"):
        return params["TemplateBody"]
    if params.get("TemplateURL"):
        try:
            return get_stack_from_s3_url(params["TemplateURL"], account_id=ctx.account_id, partition="aws")
        except Exception as error:  # noqa: BLE001
            raise AwsError("ValidationError", f"TemplateURL must be a reachable S3 URL: {error}") from error
    raise AwsError("ValidationError", "Either Template URL or Template Body must be specified.")


@operation("cloudformation", "CreateStack")
def create_stack(ctx: Context, params: dict) -> dict:
    stack_id = create_stack_async(
        ctx.account_id,
        ctx.region,
        params.get("StackName", ""),
        _template_from(ctx, params),
        parameters=_members(params, "Parameters", "ParameterKey", "ParameterValue"),
        tags=_members(params, "Tags", "Key", "Value"),
        env=getattr(ctx.standin, "env", None),
        role_arn=params.get("RoleARN"),
        disable_rollback=str(params.get("DisableRollback", "false")).lower() == "true"
        or params.get("OnFailure") == "DO_NOTHING",
    )
    return {"StackId": stack_id}


@operation("cloudformation", "DeleteStack")
def delete_stack(ctx: Context, params: dict) -> dict:
    delete_stack_async(
        ctx.account_id, ctx.region, params.get("StackName", ""), getattr(ctx.standin, "env", None)
    )
    return {}


@operation("cloudformation", "UpdateStack")
def update_stack(ctx: Context, params: dict) -> dict:
    backend = cloudformation_backends[ctx.account_id][ctx.region]
    name = params.get("StackName", "")
    stack = backend.stacks.get(name) or next((s for s in backend.stacks.values() if s.name == name), None)
    if stack is None:
        raise AwsError("ValidationError", f"Stack [{name}] does not exist")
    if str(params.get("UsePreviousTemplate", "")).lower() == "true":
        template = stack.template
    else:
        template = _template_from(ctx, params)
    values = _members(params, "Parameters", "ParameterKey", "ParameterValue")
    index = 1
    while f"Parameters.member.{index}.ParameterKey" in params:
        key = params[f"Parameters.member.{index}.ParameterKey"]
        if str(params.get(f"Parameters.member.{index}.UsePreviousValue", "")).lower() == "true":
            values[key] = stack.parameters.get(key, "")
        index += 1
    tags = _members(params, "Tags", "Key", "Value") or None
    stack_id = update_stack_async(
        ctx.account_id, ctx.region, name, template, values, tags, getattr(ctx.standin, "env", None)
    )
    return {"StackId": stack_id}


# --- SageMaker code repositories (moto has no API for them) -------------------------------------------------


def _repository_or_error(ctx: Context, name: str) -> dict:
    repository = code_repositories(ctx.account_id, ctx.region).get(name)
    if repository is None:
        raise AwsError("ValidationException", f"Cannot find CodeRepository with name {name}")
    return repository


@operation("sagemaker", "CreateCodeRepository")
def create_code_repository(ctx: Context, params: dict) -> dict:
    name = params.get("CodeRepositoryName", "")
    if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name):
        raise AwsError(
            "ValidationException",
            f"CodeRepositoryName {name!r}: letters, digits and hyphens, "
            "1 to 63 characters, starting with a letter or digit",
        )
    repository = SageMakerCodeRepository.create_from_cloudformation_json(
        name,
        {"Properties": {"GitConfig": params.get("GitConfig") or {}, "Tags": params.get("Tags") or []}},
        ctx.account_id,
        ctx.region,
    )
    return {"CodeRepositoryArn": repository.arn}


@operation("sagemaker", "DescribeCodeRepository")
def describe_code_repository(ctx: Context, params: dict) -> dict:
    repository = _repository_or_error(ctx, params.get("CodeRepositoryName", ""))
    return {k: v for k, v in repository.items() if k != "Tags"}


@operation("sagemaker", "ListCodeRepositories")
def list_code_repositories(ctx: Context, params: dict) -> dict:
    repositories = sorted(
        code_repositories(ctx.account_id, ctx.region).values(), key=lambda r: r["CreationTime"], reverse=True
    )
    contains = params.get("NameContains")
    summaries = [
        {k: v for k, v in r.items() if k != "Tags"}
        for r in repositories
        if not contains or contains in r["CodeRepositoryName"]
    ]
    return {"CodeRepositorySummaryList": summaries}


@operation("sagemaker", "DeleteCodeRepository")
def delete_code_repository(ctx: Context, params: dict) -> dict:
    name = params.get("CodeRepositoryName", "")
    _repository_or_error(ctx, name)
    code_repositories(ctx.account_id, ctx.region).pop(name, None)
    return {}
