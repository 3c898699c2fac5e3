"""Render the preview page (index.html) with jinja2 from the template itself, and the architecture SVG.

The page is self-contained: its script and style are inline and allowed by their SHA-256 in a
Content-Security-Policy of `default-src 'none'`, so it loads nothing and works from file://.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from scripts import project_plan, projects
from scripts.preview import architecture, form
from scripts.templates import README, VARIANTS, read_template, template_path

_STEP_ROW = re.compile(r"^\| *([0-9–-]+) *\| *([^|]+?) *\| *(.+?) *\| *(.+?) *\|$")


def walkthrough_steps(readme: Path = README) -> list[dict[str, str]]:
    """The README's walkthrough table (step, who, what, command), read rather than restated."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| step | who | what | command |"))
    steps = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        step, who, what, command = (cell.strip().replace("\\|", "|") for cell in cells)
        steps.append({"step": step, "who": who, "what": what, "command": command})
    return steps


def _code_spans(text: str) -> str:
    """Markdown `code` as <code>, everything escaped."""
    parts = text.split("`")
    return "".join(f"<code>{escape(p)}</code>" if i % 2 else str(escape(p)) for i, p in enumerate(parts))


def _asset(name: str) -> str:
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _json_for_script(data: Any) -> str:
    """JSON that cannot close its <script> element."""
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).replace("</", "<\\/")


def render(
    template: dict[str, Any],
    variant: str,
    *,
    product_id: str | None = None,
    artifact_id: str | None = None,
    variants: dict[str, dict[str, Any]] | None = None,
    readme: Path = README,
) -> str:
    """The page for this template: the form as Studio draws and checks it, the command, the architecture."""
    if variants is None:
        variants = {v: read_template(template_path(v, "service-catalog"))[1] for v in VARIANTS}
    script, style = _asset("preview.js"), _asset("preview.css")
    data: dict[str, Any] = {
        "variant": variant,
        "productId": product_id or "",
        "artifactId": artifact_id or "",
        "productPlaceholder": project_plan.PRODUCT_PLACEHOLDER,
        "artifactPlaceholder": project_plan.ARTIFACT_PLACEHOLDER,
        "defaultDescription": projects.DEFAULT_DESCRIPTION,
        "rules": form.rules(template),
    }
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_asset),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["code"] = lambda text: Markup(_code_spans(text))
    return env.get_template("index.html.j2").render(
        title=template.get("Description", "SageMaker project template"),
        variant=variant,
        groups=form.groups(template),
        data=Markup(_json_for_script(data)),
        default_description=projects.DEFAULT_DESCRIPTION,
        name_rule=data["rules"]["ProjectName"]["ConstraintDescription"],
        description_rule=data["rules"]["ProjectDescription"]["ConstraintDescription"],
        svg=Markup(architecture.svg(template, f"Architecture of the {variant} template")),
        steps=walkthrough_steps(readme),
        side_by_side=[(v, form.groups(t)) for v, t in sorted(variants.items())],
        script=Markup(script),
        style=Markup(style),
        csp=f"default-src 'none'; script-src '{_sha256(script)}'; style-src '{_sha256(style)}'",
    )


def write(out: Path, html: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(html, encoding="utf-8")
    return page
