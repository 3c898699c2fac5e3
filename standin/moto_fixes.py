"""Where moto 5.2.5 (pinned exactly) behaves unlike AWS in ways the walkthrough meets, corrected in one place.

Each correction names what AWS does, what moto does, and is tested in ``tests/standin/test_moto_fixes.py``.
Importing this module applies them (``standin.dispatch.HANDLER_MODULES`` imports it at start); applying twice
is harmless.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.cloudformation import parsing
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import IAMBackend, ManagedPolicy
from moto.s3.models import FakeBucket
from moto.sagemaker import exceptions as sagemaker_exceptions
from moto.sagemaker import models as sagemaker_models

from standin import footprints
from standin.cloudformation.custom_resources import CustomResource
from standin.cloudformation.dependencies import creation_order, references

# The request context the stand-in answers for: it stands for AWS's HTTPS endpoints, so every request
# counts as having arrived over TLS (the template's bucket policy denies aws:SecureTransport=false).
REQUEST_CONTEXT = {"aws:securetransport": "true"}

_OPERATORS = {
    "Bool": lambda actual, expected: actual.lower() == expected.lower(),
    "StringEquals": lambda actual, expected: actual == expected,
    "StringEqualsIgnoreCase": lambda actual, expected: actual.lower() == expected.lower(),
}


def statement_applies(statement: dict[str, Any], context: dict[str, str] = REQUEST_CONTEXT) -> bool:
    """Whether a policy statement's Condition holds for the request context.

    A condition on a key or with an operator the stand-in does not know is taken as not holding, so the
    statement is left out: an unknown Deny then denies nothing, an unknown Allow grants nothing.
    """
    for operator, block in (statement.get("Condition") or {}).items():
        compare = _OPERATORS.get(operator)
        if compare is None:
            return False
        for key, expected in block.items():
            actual = context.get(key.lower())
            values = expected if isinstance(expected, list) else [expected]
            if actual is None or not any(compare(actual, str(value)) for value in values):
                return False
    return True


def bucket_permission(policy_document: str, action: str, resource: str) -> PermissionResult:
    """A bucket policy's verdict with its conditions evaluated (moto's own ignores them: any Deny denies)."""
    policy = json.loads(policy_document)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [{k: v for k, v in s.items() if k != "Condition"} for s in statements if statement_applies(s)]
    if not kept:
        return PermissionResult.NEUTRAL
    return IAMPolicy(
        json.dumps({"Version": policy.get("Version", "2012-10-17"), "Statement": kept})
    ).is_action_permitted(action, resource)


def _get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    return bucket_permission(self.policy.decode(), action, resource)


# CloudFormation names these SageMaker resources by their name property when the template gives one (the
# deploy seed names its endpoint `<project>-<stage>`); moto names them after the stack and logical id.
NAME_PROPERTIES = {
    sagemaker_models.FakeEndpoint: "EndpointName",
    sagemaker_models.FakeEndpointConfig: "EndpointConfigName",
    sagemaker_models.Model: "ModelName",
}


# CloudFormation re-resolves a resource whose properties refer to a resource the update replaced (a new model
# package replaces the Model, so the EndpointConfig naming it is replaced too, then the Endpoint moves to it);
# moto diffs the template text only, so such dependents keep pointing at what the update deleted.
_TEXT_DIFF = parsing.ResourceMap.build_resource_diff


def _diff_with_dependents(
    self: parsing.ResourceMap, other_template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    actions = _TEXT_DIFF(self, other_template, parameters)
    resources = other_template["Resources"]
    changed = set(actions["Modify"]) | set(actions["Add"])
    grew = True
    while grew:
        dependents = {
            name
            for name, resource in resources.items()
            if name not in changed and references(resource.get("Properties") or {}, changed)
        }
        grew = bool(dependents)
        changed |= dependents
    modify = changed - set(actions["Add"])
    actions["Modify"] = [name for name in creation_order(resources) if name in modify]
    return actions


# CloudFormation runs a custom resource's function and waits for its answer; moto sends ``Custom::*`` to its
# Docker-based model through the module-level name ``parsing.CustomModel``. The stand-in's runs the code here.
def _use_in_process_custom_resources() -> None:
    parsing.CustomModel = CustomResource  # type: ignore[misc,assignment]
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


# CloudFormation creates a stack's resources once, in its own worker; moto's resource map creates a resource
# whenever anyone reads it (``describe_stack_resources``, outputs), so a describe during creation would create
# resources out of order. The engine calls ``guard`` on each stack it builds, once moto has parsed the stack's
# parameters and conditions; patching ResourceMap itself would also change the stacks moto makes on its own.
# ``STACK_WORKER.stack_id``: the stack whose worker runs on this thread (the engine sets it).
STACK_WORKER = threading.local()


class StackResources(parsing.ResourceMap):
    """moto's resource map, but a reader never creates a resource: only the stack's own worker does. Listing
    shows created resources only (none for a false condition)."""

    def __getitem__(self, key: str) -> Any:
        if key in self._parsed_resources:
            return self._parsed_resources[key]
        if getattr(STACK_WORKER, "stack_id", None) != self.stack_id and key in self._resource_json_map:
            raise KeyError(f"{key} is not created (yet)")
        return super().__getitem__(key)

    def __iter__(self) -> Any:
        return iter([k for k in self._resource_json_map if self._parsed_resources.get(k) is not None])

    def __len__(self) -> int:
        return len(list(iter(self)))


def guard(resource_map: parsing.ResourceMap) -> None:
    """Make a stack's resource map one that only its worker creates resources through."""
    resource_map.__class__ = StackResources


# AWS starts an endpoint's containers, which log to `/aws/sagemaker/Endpoints/<name>`; moto makes no group.
_CREATE_ENDPOINT = sagemaker_models.SageMakerModelBackend.create_endpoint


def _create_endpoint_with_logs(
    self: sagemaker_models.SageMakerModelBackend,
    endpoint_name: str,
    endpoint_config_name: str,
    tags: list[dict[str, str]],
) -> Any:
    endpoint = _CREATE_ENDPOINT(self, endpoint_name, endpoint_config_name, tags)
    footprints.endpoint_created(self.account_id, self.region_name, endpoint_name)
    return endpoint


# SageMaker answers DescribeExperiment on a missing experiment with ResourceNotFound; moto's raises KeyError.
_DESCRIBE_EXPERIMENT = sagemaker_models.SageMakerModelBackend.describe_experiment


def _describe_experiment(self: sagemaker_models.SageMakerModelBackend, experiment_name: str) -> Any:
    if experiment_name not in self.experiments:
        where = f"{self.partition}:sagemaker:{self.region_name}:{self.account_id}"
        arn = f"arn:{where}:experiment/{experiment_name}"
        raise sagemaker_exceptions.ResourceNotFound(message=f"Experiment '{arn}' does not exist.")
    return _DESCRIBE_EXPERIMENT(self, experiment_name)


# CloudFormation updates a function's code (UpdateFunctionCode) only when its `Code` changed, and an inline
# `ZipFile` is source text that it zips as index.py; moto's update hands that text to UpdateFunctionCode as
# if it were a base64 zip, so every update of a stack's function failed, and it replaced the code each time.
_CREATE_FUNCTION = LambdaFunction.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_function(
    cls: type[LambdaFunction],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LambdaFunction:
    code = copy.deepcopy(cloudformation_json["Properties"].get("Code") or {})
    function = _CREATE_FUNCTION(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    function.standin_template_code = code
    return function


def _update_function(
    cls: type[LambdaFunction],
    original_resource: LambdaFunction,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> LambdaFunction:
    properties = cloudformation_json["Properties"]
    original_resource.update_configuration(properties)
    code = copy.deepcopy(properties.get("Code") or {})
    if code != getattr(original_resource, "standin_template_code", None):
        original_resource.standin_template_code = copy.deepcopy(code)  # type: ignore[attr-defined]
        if "ZipFile" in code:
            zipped = LambdaFunction._create_zipfile_from_plaintext_code(code["ZipFile"])
            code["ZipFile"] = base64.b64encode(zipped)
        original_resource.update_function_code(code)
    return original_resource


# AWS's managed policies are the same in every account: AWS keeps one copy. moto builds all 1,582 anew for
# each IAM backend it makes, and it makes one per partition as soon as any request names an access key (five
# per reset, ~1 s of CPU that every test paid). Built once per account and partition here; each backend gets
# its own shallow copies, so what a backend changes (attachment counts, tags) stays its own.
_INIT_AWS_POLICIES = IAMBackend._init_aws_policies
_AWS_POLICIES: dict[tuple[str, str], list[ManagedPolicy]] = {}
_AWS_POLICIES_LOCK = threading.Lock()


def _init_aws_policies(self: IAMBackend) -> list[ManagedPolicy]:
    key = (self.account_id, self.region_name)
    with _AWS_POLICIES_LOCK:
        if key not in _AWS_POLICIES:
            built = _INIT_AWS_POLICIES(self)
            if not built:  # loading is off: nothing to keep
                return built
            _AWS_POLICIES[key] = built
        originals = _AWS_POLICIES[key]
    copies = []
    for original in originals:
        policy = object.__new__(type(original))  # copy.copy, without its generic (slow) protocol
        policy.__dict__ = {**vars(original), "versions": list(original.versions), "tags": dict(original.tags)}
        copies.append(policy)
    return copies


def apply() -> None:
    """Apply every correction (idempotent)."""
    FakeBucket.get_permission = _get_permission  # type: ignore[method-assign]
    for model, prop in NAME_PROPERTIES.items():
        model.cloudformation_name_type = staticmethod(lambda prop=prop: prop)  # type: ignore[attr-defined]
    parsing.get_name_type_map.cache_clear()
    parsing.ResourceMap.build_resource_diff = _diff_with_dependents  # type: ignore[method-assign]
    sagemaker_models.SageMakerModelBackend.create_endpoint = _create_endpoint_with_logs  # type: ignore[method-assign]
    sagemaker_models.SageMakerModelBackend.describe_experiment = _describe_experiment  # type: ignore[method-assign]
    LambdaFunction.create_from_cloudformation_json = classmethod(_create_function)  # type: ignore[method-assign,assignment]
    LambdaFunction.update_from_cloudformation_json = classmethod(_update_function)  # type: ignore[method-assign,assignment]
    IAMBackend._init_aws_policies = _init_aws_policies  # type: ignore[method-assign]
    _use_in_process_custom_resources()


apply()
