"""The model registry's delete calls, which moto's SageMaker backend lacks (clean-up needs both).

``DeleteModelPackage`` removes one version by name or ARN. ``DeleteModelPackageGroup`` refuses while the group
still holds versions, as AWS does, so a clean-up must delete the versions first.
"""

from __future__ import annotations

from standin.dispatch import AwsError, Context, operation


@operation("sagemaker", "DeleteModelPackage")
def delete_model_package(ctx: Context, params: dict) -> dict:
    backend = ctx.backend("sagemaker")
    name = params.get("ModelPackageName", "")
    key = backend.model_package_name_mapping.get(name, name)
    if backend.model_packages.pop(key, None) is None:
        raise AwsError("ValidationException", f"Model package {name} does not exist.")
    for alias in [alias for alias, target in backend.model_package_name_mapping.items() if target == key]:
        del backend.model_package_name_mapping[alias]
    return {}


@operation("sagemaker", "DeleteModelPackageGroup")
def delete_model_package_group(ctx: Context, params: dict) -> dict:
    backend = ctx.backend("sagemaker")
    name = params.get("ModelPackageGroupName", "")
    group = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    if group not in backend.model_package_groups:
        raise AwsError("ValidationException", f"Model package group {name} does not exist.")
    versions = [p for p in backend.model_packages.values() if p.model_package_group_name == group]
    if versions:
        raise AwsError(
            "ConflictException",
            f"Model package group {group} still holds {len(versions)} model package(s): delete them first.",
        )
    del backend.model_package_groups[group]
    return {}
