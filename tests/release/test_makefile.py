"""The Makefile refuses a Python it cannot build .venv with, before it builds anything."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_python_other_than_3_11_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    for name in ("Makefile", "setup.cfg", "pyproject.toml", "requirements/dev.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tmp_path / name)
    old = tmp_path / "python3.9"
    old.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "Python 3.9.18" && exit 0\nexit 1\n')
    old.chmod(0o755)
    done = subprocess.run(
        ["make", f"PYTHON={old}", "test"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "Python 3.9.18" in done.stderr
    assert "make PYTHON=python3.11 test" in done.stderr
    assert not (tmp_path / ".venv").exists()
