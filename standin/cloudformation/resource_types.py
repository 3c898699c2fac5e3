"""The CloudFormation resource types moto skips, kept in moto's backends so the services' own APIs see what a
stack made: ``AWS::CodeBuild::Project``, ``AWS::CodePipeline::Pipeline``, ``AWS::SageMaker::CodeRepository``,
``AWS::SageMaker::ModelPackageGroup``, ``AWS::S3::BucketPolicy``.

Resource types are registered through moto's own extension point: moto maps a template's ``Type`` to the
direct subclasses of ``CloudFormationModel`` (``moto.cloudformation.parsing.get_model_map``), so defining the
classes below is the registration (the cached map is cleared once on import).
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from moto.backends import get_backend
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.codepipeline.models import CodePipeline
from moto.core.common_models import CloudFormationModel

from standin import hooks
from standin.sagemaker.code_repositories import create_repository, delete_repository

log = logging.getLogger(__name__)


def backend_of(service: str, account_id: str, region: str) -> Any:
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


def arn_of(service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account_id}:{resource}"


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
    def update_from_cloudformation_json(
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
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> CodeBuildProject:
        spec = _camel(cloudformation_json.get("Properties") or {})
        for required in ("source", "artifacts", "environment", "serviceRole"):
            if required not in spec:
                raise ValueError(f"Property {required[:1].upper() + required[1:]} cannot be empty.")
        backend = backend_of("codebuild", account_id, region_name)
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
            arn_of("codebuild", region_name, account_id, f"project/{resource_name}"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        backend = backend_of("codebuild", account_id, region_name)
        backend.codebuild_projects.pop(self.name, None)
        backend.build_history.pop(self.name, None)


class CodePipelinePipeline(_StandInType, CloudFormationModel):
    """``AWS::CodePipeline::Pipeline`` in moto's CodePipeline backend; tells ``hooks`` (AWS starts a run).
    Ref: name; GetAtt: Version."""

    TYPE, NAME_PROPERTY, ATTRIBUTES = "AWS::CodePipeline::Pipeline", "Name", {"Version": "version"}

    @property
    def version(self) -> str:
        pipeline = backend_of("codepipeline", self.account_id, self.region).pipelines.get(self.name)
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
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> CodePipelinePipeline:
        declaration, tags = cls._declaration(resource_name, cloudformation_json.get("Properties") or {})
        _check_pipeline_role(account_id, declaration.get("roleArn", ""))
        backend = backend_of("codepipeline", account_id, region_name)
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
    def update_from_cloudformation_json(
        cls,
        original_resource: CodePipelinePipeline,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> CodePipelinePipeline:
        backend = backend_of("codepipeline", account_id, region_name)
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
        backend_of("codepipeline", account_id, region_name).delete_pipeline(self.name)
        hooks.pipeline_deleted(account_id, region_name, self.name)


def _check_pipeline_role(account_id: str, role_arn: str) -> None:
    """The role must exist and trust codepipeline.amazonaws.com (Principal.Service a string or a list)."""
    iam = get_backend("iam")[account_id]["aws"]
    refusal = f"CodePipeline is not authorized to perform AssumeRole on role {role_arn}"
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception as error:  # moto's IAMNotFoundException and malformed ARNs alike
        raise ValueError(refusal) from error
    statements = json.loads(role.assume_role_policy_document).get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        services = (statement.get("Principal") or {}).get("Service") or []
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "codepipeline.amazonaws.com" in services:
            return
    raise ValueError(refusal)


class SageMakerCodeRepository(_StandInType, CloudFormationModel):
    """``AWS::SageMaker::CodeRepository``. Ref: ARN; GetAtt: CodeRepositoryName."""

    TYPE, NAME_PROPERTY, REF_IS_ARN = "AWS::SageMaker::CodeRepository", "CodeRepositoryName", True
    ATTRIBUTES = {"CodeRepositoryName": "name"}

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> SageMakerCodeRepository:
        properties = cloudformation_json.get("Properties") or {}
        git, tags = properties.get("GitConfig") or {}, properties.get("Tags") or []
        repository = create_repository(account_id, region_name, resource_name, git, tags)
        return cls(account_id, region_name, repository["CodeRepositoryName"], repository["CodeRepositoryArn"])

    def delete(self, account_id: str, region_name: str) -> None:
        delete_repository(account_id, region_name, self.name)


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
        return backend_of("sagemaker", self.account_id, self.region).model_package_groups.get(self.name)

    @property
    def creation_time(self) -> str:
        return str(getattr(self._group(), "creation_time", ""))

    @property
    def status(self) -> str:
        return str(getattr(self._group(), "model_package_group_status", "Completed"))

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> SageMakerModelPackageGroup:
        properties = cloudformation_json.get("Properties") or {}
        backend = backend_of("sagemaker", account_id, region_name)
        name = resource_name[:63]
        if name in backend.model_package_groups:
            arn = arn_of("sagemaker", region_name, account_id, f"model-package-group/{name.lower()}")
            raise ValueError(f"Model Package Group already exists: {arn}")
        arn = backend.create_model_package_group(
            model_package_group_name=name,
            model_package_group_description=properties.get("ModelPackageGroupDescription", ""),
            tags=properties.get("Tags") or [],
        )
        return cls(account_id, region_name, name, arn)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: SageMakerModelPackageGroup,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> SageMakerModelPackageGroup:
        # The group keeps its name and its model versions; only the description and tags change.
        group = backend_of("sagemaker", account_id, region_name).model_package_groups.get(
            original_resource.name
        )
        if group is not None:
            properties = cloudformation_json.get("Properties") or {}
            group.model_package_group_description = properties.get("ModelPackageGroupDescription", "")
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend_of("sagemaker", account_id, region_name).model_package_groups.pop(self.name, None)


class S3BucketPolicy(_StandInType, CloudFormationModel):
    """``AWS::S3::BucketPolicy`` on a bucket of moto's S3 (stored, not enforced, as moto does). Ref: its
    logical name; no GetAtt."""

    TYPE, NAME_PROPERTY = "AWS::S3::BucketPolicy", ""

    def __init__(self, account_id: str, bucket: str, physical_id: str) -> None:
        super().__init__(account_id, "", physical_id)
        self.bucket = bucket

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any
    ) -> S3BucketPolicy:
        properties = cloudformation_json.get("Properties") or {}
        bucket, document = properties.get("Bucket"), properties.get("PolicyDocument")
        if not bucket or not document:
            raise ValueError("Properties Bucket and PolicyDocument are required for AWS::S3::BucketPolicy.")
        s3 = get_backend("s3")[account_id]["aws"]
        text = document if isinstance(document, str) else json.dumps(document)
        s3.put_bucket_policy(bucket, text.encode())
        return cls(account_id, bucket, resource_name)

    @classmethod
    def update_from_cloudformation_json(
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
        s3 = get_backend("s3")[account_id]["aws"]
        try:
            s3.delete_bucket_policy(self.bucket)
        except Exception:  # noqa: BLE001 - the bucket is gone already (deleted first or retained elsewhere)
            log.debug("bucket policy of %s: bucket already gone", self.bucket)


for _cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cached.cache_clear()
