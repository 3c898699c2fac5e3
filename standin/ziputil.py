"""Zip archives as CodeBuild and CodePipeline move them: S3 sources and pipeline artifacts.

One place that extracts and builds the zips the stand-in's services exchange, so that every entry is checked
the same way: an entry whose path leaves the target folder (``../x``, an absolute path) is refused, and the
mode recorded in the archive is applied to the file the extraction wrote, never to a path read from the entry.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


class UnsafeArchiveError(ValueError):
    """A zip entry that would land outside the folder it is extracted into."""


def extract_zip(data: bytes, dest: Path) -> Path:
    """Extract the zip `data` into `dest` (created), keeping each file's mode; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            target = (root / info.filename).resolve()
            if target != root and root not in target.parents:
                raise UnsafeArchiveError(
                    f"zip entry {info.filename!r} would be written outside {dest}; the archive is refused"
                )
            written = Path(archive.extract(info, root))
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                written.chmod(mode & 0o777 or 0o644)
    return dest


def zip_folder(folder: Path) -> bytes:
    """Every file below `folder`, deflated, with its mode and a fixed date (same bytes for the same tree)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (path.stat().st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buf.getvalue()
