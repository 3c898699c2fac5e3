"""The stand-in's one zip helper (CodeBuild sources, CodePipeline artifacts): modes kept, entries leaving the
folder refused."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from standin.ziputil import UnsafeArchiveError, extract_zip, zip_folder


def archive(entries: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name, (data, mode) in entries.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            out.writestr(info, data)
    return buf.getvalue()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_folder_zipped_and_extracted_keeps_its_files_and_modes(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "bin").mkdir(parents=True)
    (source / "bin" / "run.sh").write_text("#!/bin/sh\n")
    (source / "bin" / "run.sh").chmod(0o755)
    (source / "data.txt").write_text("data\n")
    (source / "data.txt").chmod(0o644)
    data = zip_folder(source)
    assert data == zip_folder(source)
    target = extract_zip(data, tmp_path / "target")
    assert (target / "data.txt").read_text() == "data\n"
    assert mode_of(target / "bin" / "run.sh") == 0o755
    assert mode_of(target / "data.txt") == 0o644


@pytest.mark.parametrize("name", ["../../../victim", "/tmp/../../victim-absolute", "a/../../../../victim"])
def test_an_entry_leaving_the_folder_is_refused_and_touches_nothing_outside(
    tmp_path: Path, name: str
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("private\n")
    victim.chmod(0o600)
    dest = tmp_path / "work" / "in" / "artifact"
    data = archive({"ok.txt": (b"fine\n", 0o644), name: (b"evil\n", 0o777)})
    with pytest.raises(UnsafeArchiveError, match="outside"):
        extract_zip(data, dest)
    assert mode_of(victim) == 0o600
    assert victim.read_text() == "private\n"
