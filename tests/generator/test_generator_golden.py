"""The committed templates are exactly what the generator renders now; rendering is deterministic."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.config import VARIANTS
from generator.render import HEADER, render

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_committed_template_equals_fresh_render(name: str) -> None:
    path = TEMPLATES / f"{name}.yaml"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make templates` and commit it"
    committed_text = path.read_text()
    fresh_text = render(VARIANTS[name])
    if yaml.safe_load(committed_text) != yaml.safe_load(fresh_text):
        diff = "".join(
            difflib.unified_diff(
                committed_text.splitlines(keepends=True),
                fresh_text.splitlines(keepends=True),
                fromfile=f"committed {path.name}",
                tofile="fresh render",
                n=2,
            )
        )
        changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        hint = ""
        if changed and all("seedcode/" in line or "seeding/bootstrap-" in line for line in changed):
            hint = " (only asset keys: seedcode/ or seeding/bootstrap/ changed; the template pins content)"
        pytest.fail(
            f"{path.name} differs from a fresh render{hint}; run `make templates` and commit.\n{diff}"
        )
    assert committed_text == fresh_text, f"{path.name}: same data, different bytes; run `make templates`"


def test_templates_folder_holds_only_rendered_variants() -> None:
    assert sorted(p.stem for p in TEMPLATES.glob("*.yaml")) == sorted(VARIANTS)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_rendered_template_starts_with_do_not_edit_header(name: str) -> None:
    text = render(VARIANTS[name])
    assert text.startswith(HEADER)
    assert "Do not edit" in HEADER


def test_two_processes_render_identical_bytes(tmp_path: Path) -> None:
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        subprocess.run(
            [sys.executable, "-m", "generator", "render", "--out", str(out)],
            check=True,
            cwd=ROOT,
            capture_output=True,
            env={"PYTHONHASHSEED": "random", "PATH": "/usr/bin:/bin"},
        )
        outputs.append({p.name: p.read_bytes() for p in sorted(out.glob("*.yaml"))})
    assert outputs[0] == outputs[1]
    assert sorted(outputs[0]) == sorted(f"{name}.yaml" for name in VARIANTS)


def test_render_check_flags_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from generator.__main__ import main

    assert main(["render", "--out", str(tmp_path)]) == 0
    assert main(["render", "--check", "--out", str(tmp_path)]) == 0
    stale = tmp_path / "mlops-third-party-git-v2.yaml"
    stale.write_text(stale.read_text().replace("PipelineType: V2", "PipelineType: V1"))
    capsys.readouterr()
    assert main(["render", "--check", "--out", str(tmp_path)]) == 1
    assert "mlops-third-party-git-v2.yaml differs" in capsys.readouterr().out
