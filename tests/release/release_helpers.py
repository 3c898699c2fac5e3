"""Building the wheel as pip does and installing it into a new virtual environment, outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PEP517 = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"


def outside() -> dict[str, str]:
    """The environment without PYTHONPATH: nothing of the checkout is importable."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def pep517(hook: str, source: Path, out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-c", PEP517, hook, str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        env=outside(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


def build_wheel(out: Path) -> Path:
    """The wheel pip would build: from the unpacked sdist (no .git, so the zips come from the manifest)."""
    sdist = pep517("build_sdist", ROOT, out)
    with tarfile.open(sdist) as archive:
        archive.extractall(out / "unpacked", filter="data")
    (source,) = (out / "unpacked").iterdir()
    return pep517("build_wheel", source, out)


def install_wheel(wheel: Path, home: Path) -> Path:
    """A new venv at home holding the wheel; third-party packages come from this interpreter's site-packages
    (offline: no index is asked). Returns the venv's bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        cwd=home,
        env=outside(),
    )
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Added after the venv's own site-packages, and without running that folder's .pth files (so the
    # shared environment's editable install of the checkout stays out).
    Path(own, "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return home / "bin"
