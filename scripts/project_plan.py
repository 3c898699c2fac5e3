"""`project create --dry-run`: the values checked as the real run checks them, the command and the request.

The preview page (scripts/preview) draws the same command and request in the browser; a browser test holds the
two equal.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from scripts import product_view, projects
from scripts.common import Aws
from scripts.templates import read_template, template_path

PRODUCT_PLACEHOLDER = "<product-id>"
ARTIFACT_PLACEHOLDER = "<provisioning-artifact-id>"
DEFAULT_VARIANT = "v1"
DEFAULT_ROLE_FAMILY = "service-catalog"


def create_command(
    name: str,
    values: dict[str, str],
    *,
    variant: str = DEFAULT_VARIANT,
    role_family: str = DEFAULT_ROLE_FAMILY,
    product_id: str | None = None,
    artifact_id: str | None = None,
    description: str = projects.DEFAULT_DESCRIPTION,
) -> str:
    """One `sm-mlops project create` line that sends exactly these values (every parameter as --param)."""
    words = ["sm-mlops", "project", "create", name, "--template-variant", variant]
    if role_family != DEFAULT_ROLE_FAMILY:
        words += ["--role-family", role_family]
    if product_id:
        words += ["--product-id", product_id]
    if artifact_id:
        words += ["--provisioning-artifact-id", artifact_id]
    if description != projects.DEFAULT_DESCRIPTION:
        words += ["--description", description]
    for key, value in sorted(values.items()):
        words += ["--param", f"{key}={value}"]
    return " ".join(shlex.quote(word) for word in words)


def plan_create(
    aws: Aws,
    name: str,
    repos: projects.RepoOptions,
    explicit: dict[str, str],
    *,
    variant: str = DEFAULT_VARIANT,
    role_family: str = DEFAULT_ROLE_FAMILY,
    template_file: Path | None = None,
    product_id: str | None = None,
    artifact_id: str | None = None,
    description: str = projects.DEFAULT_DESCRIPTION,
) -> dict[str, Any]:
    """What `project create` would send, checked as the real run checks it; it creates nothing.

    With --product-id the product version's form is read as the real run reads it (the end-user API); without
    it, the local rendered variant's, and the ids are shown as placeholders.
    """
    projects.check_project_name(name)
    projects.check_description(description)
    if product_id:
        view = product_view.look_up(aws, product_id, artifact_id)
        artifact_id, template = view.artifact_id, view.template
    else:
        template = read_template(template_file or template_path(variant, role_family))[1]
    values = projects.parameters_for(template, repos, explicit)
    projects.validate(template, name, values)
    command = create_command(
        name,
        values,
        variant=variant,
        role_family=role_family,
        product_id=product_id,
        artifact_id=artifact_id,
        description=description,
    )
    request = projects.create_request(
        name,
        description,
        product_id or PRODUCT_PLACEHOLDER,
        artifact_id or ARTIFACT_PLACEHOLDER,
        values,
    )
    return {"command": command, "request": request}
