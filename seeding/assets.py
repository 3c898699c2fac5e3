"""Deterministic zips of the seed repositories and of the check-in bootstrap, named by content hash.

Each template version pins the exact seed it pushes: object keys carry the zip's sha256, so a new seed is a
new key and an old template keeps pointing at its own. Zips are byte-identical run to run (sorted entries,
fixed timestamps and modes), which is what keeps the golden templates stable.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_ROOT = ROOT / "seedcode"
BOOTSTRAP_DIR = Path(__file__).resolve().parent / "bootstrap"

# Names of the assets, in the order they are uploaded.
MODELBUILD = "modelbuild"
MODELDEPLOY = "modeldeploy"
BOOTSTRAP = "bootstrap"

_EXCLUDED_DIRS = {
    "__pycache__",
    ".git",
    ".venv",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "build",
    "dist",
}
_EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


@dataclass(frozen=True)
class Asset:
    """One zip to upload: its object key in the asset bucket and its bytes."""

    name: str
    key: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in _EXCLUDED_DIRS or part.endswith(_EXCLUDED_SUFFIXES) for part in rel.parts):
            continue
        if path.is_file():
            yield path


def zip_folder(folder: Path) -> bytes:
    """Zip a folder with sorted entries, fixed timestamps and normalised modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_FIXED_DATE)
            executable = path.stat().st_mode & 0o111
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build_asset(name: str, folder: Path, prefix: str) -> Asset:
    data = zip_folder(folder)
    digest = hashlib.sha256(data).hexdigest()[:16]
    return Asset(name=name, key=f"{prefix}/{name}-{digest}.zip", data=data)


def build_assets() -> dict[str, Asset]:
    """Every asset the template refers to, keyed by name."""
    return {
        MODELBUILD: build_asset(MODELBUILD, SEED_ROOT / MODELBUILD, "seedcode"),
        MODELDEPLOY: build_asset(MODELDEPLOY, SEED_ROOT / MODELDEPLOY, "seedcode"),
        BOOTSTRAP: build_asset(BOOTSTRAP, BOOTSTRAP_DIR, "seeding"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "assets")
    args = parser.parse_args(argv)
    for asset in build_assets().values():
        target = args.out / asset.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(asset.data)
        print(f"{asset.key}  {len(asset.data):>9,} bytes  sha256 {asset.sha256}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
