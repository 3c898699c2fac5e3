"""The preview page and the architecture SVG equal the goldens; docs/architecture.svg is a fresh drawing.

Refresh the goldens with `make architecture` (it sets PREVIEW_GOLDEN_UPDATE=1 for this file).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from scripts.preview import __main__ as preview_main
from scripts.preview import architecture, page
from scripts.templates import read_template, template_path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("PREVIEW_GOLDEN_UPDATE") == "1"


def _template(variant: str) -> dict:
    return read_template(template_path(variant, "service-catalog"))[1]


def fresh(name: str) -> str:
    variant, kind = name.split(".", 1)[0].rsplit("-", 1)[1], name.split(".", 1)[1]
    if kind == "svg":
        return architecture.svg(_template(variant), f"Architecture of the {variant} template")
    if name.startswith("index-ids"):
        return page.render(
            _template(variant), variant, product_id="prod-abcdefghijklm", artifact_id="pa-0123"
        )
    return page.render(_template(variant), variant)


def compare(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `make architecture` and commit it"
    committed = path.read_text(encoding="utf-8")
    if committed != text:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"golden {path.name}",
                tofile="fresh render",
                n=2,
            )
        )
        pytest.fail(f"{path.name} differs from a fresh render; run `make architecture` and commit.\n{diff}")


@pytest.mark.parametrize(
    "name",
    ["index-v1.html", "index-v2.html", "index-ids-v1.html", "architecture-v1.svg", "architecture-v2.svg"],
)
def test_preview_equals_its_golden(name: str) -> None:
    compare(GOLDEN / name, fresh(name))


def test_readme_architecture_svg_is_fresh() -> None:
    compare(ROOT / "docs" / "architecture.svg", preview_main.architecture_svg())


def test_architecture_check_flags_a_stale_file(tmp_path: Path) -> None:
    path = tmp_path / "architecture.svg"
    assert preview_main.main(["architecture", str(path)]) == 0
    assert preview_main.main(["architecture", "--check", str(path)]) == 0
    path.write_text(path.read_text().replace("ModelDeployPipeline", "OldPipeline"))
    assert preview_main.main(["architecture", "--check", str(path)]) == 1


def test_rendering_twice_gives_the_same_bytes() -> None:
    assert fresh("index-v1.html") == fresh("index-v1.html")
