"""The product template: which file a variant is, how to read it, and the hash that names its version."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from cfn_tools import load_yaml

from generator import constants as c
from scripts.common import BadInput, NotFound

ROOT = Path(__file__).resolve().parent.parent
# An installed wheel ships the rendered templates and the README here (setup.py); a checkout has its own.
SHIPPED = Path(__file__).resolve().parent / "shipped"
CHECKOUT = (ROOT / "templates").is_dir()
TEMPLATES_DIR = ROOT / "templates" if CHECKOUT else SHIPPED / "templates"
README = ROOT / "README.md" if CHECKOUT else SHIPPED / "README.md"
RENDER_FIX = "run `make templates` to render the variants"
if not CHECKOUT:
    RENDER_FIX = "reinstall sagemaker-git-mlops from its wheel"
VARIANTS = c.FORMS
ROLE_FAMILIES = c.ROLE_FAMILIES


def template_path(variant: str, role_family: str, templates_dir: Path = TEMPLATES_DIR) -> Path:
    """`templates/mlops-third-party-git-<variant>[-projects-roles].yaml` (DESIGN.md "Template variants")."""
    if variant not in VARIANTS:
        raise BadInput(
            f"unknown variant {variant!r}", field="--template-variant", fix=f"use one of {VARIANTS}"
        )
    if role_family not in ROLE_FAMILIES:
        raise BadInput(
            f"unknown role family {role_family!r}", field="--role-family", fix=f"use one of {ROLE_FAMILIES}"
        )
    return templates_dir / f"{c.variant_name(variant, role_family)}.yaml"


def parse_template(body: str | bytes) -> dict[str, Any]:
    """A template body (YAML in its long or short form, or JSON) as a dict, intrinsics in their long form."""
    text = body.decode() if isinstance(body, bytes) else body
    try:
        data = load_yaml(text)
    except yaml.YAMLError as error:
        raise BadInput(
            f"the template is not YAML or JSON: {error}",
            field="template",
            fix="give a CloudFormation template",
        ) from error
    if not isinstance(data, dict):
        raise BadInput(
            "the template is not a mapping", field="template", fix="give a CloudFormation template"
        )
    return dict(data)


def read_template(path: Path) -> tuple[bytes, dict[str, Any]]:
    if not path.is_file():
        raise NotFound(
            f"template file {path} does not exist",
            field="--template-file",
            fix=f"{RENDER_FIX}, or pass --template-file PATH",
        )
    body = path.read_bytes()
    return body, parse_template(body)


def template_hash(body: bytes) -> str:
    """The short content hash that names a template version (kept in the artifact's Description)."""
    return hashlib.sha256(body).hexdigest()[:16]
