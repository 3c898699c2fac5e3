"""The seed and bootstrap zips: byte-identical across processes, free of caches, named by their hash."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from seeding import assets

DIGESTS = "import json; from seeding.assets import build_assets; "
DIGESTS += "print(json.dumps({k: [a.key, a.sha256] for k, a in build_assets().items()}))"


def digests_in_a_new_process(env_extra: dict[str, str]) -> dict[str, list[str]]:
    env = {**os.environ, **env_extra}
    out = subprocess.run([sys.executable, "-c", DIGESTS], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def test_zips_are_byte_identical_across_two_processes() -> None:
    first = digests_in_a_new_process({"PYTHONHASHSEED": "1", "TZ": "UTC"})
    second = digests_in_a_new_process({"PYTHONHASHSEED": "2", "TZ": "Asia/Tokyo"})
    assert first == second
    assert set(first) == {assets.MODELBUILD, assets.MODELDEPLOY, assets.BOOTSTRAP}


def test_keys_are_named_by_the_zip_hash() -> None:
    for name, asset in assets.build_assets().items():
        digest = hashlib.sha256(asset.data).hexdigest()
        prefix = "seeding" if name == assets.BOOTSTRAP else "seedcode"
        assert asset.key == f"{prefix}/{name}-{digest[:16]}.zip"


def test_bootstrap_zip_holds_the_checkin_script_and_its_buildspec() -> None:
    names = zipfile.ZipFile(io.BytesIO(assets.build_assets()[assets.BOOTSTRAP].data)).namelist()
    assert "buildspec.yml" in names
    assert "checkin.py" in names


GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def make_tree(root: Path) -> None:
    """A small seed repository: what Git tracks, and the caches and build output it ignores."""
    files = {
        ".gitignore": "__pycache__/\n*.pyc\n.pytest_cache/\nbuild/\n*.egg-info/\n.venv/\n",
        "README.md": "readme\n",
        "pkg/mod.py": "x = 1\n",
        "pkg/__pycache__/mod.cpython-311.pyc": "cache",
        "pkg/stale.pyc": "cache",
        ".pytest_cache/v/cache/nodeids": "[]",
        "build/lib/pkg/mod.py": "x = 1\n",
        "pipelines.egg-info/PKG-INFO": "info",
        ".venv/bin/python": "",
        "run.sh": "#!/bin/sh\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "run.sh").chmod(0o755)
    subprocess.run([*GIT, "init", "--quiet", str(root)], check=True)
    subprocess.run([*GIT, "-C", str(root), "add", "--all"], check=True)


def test_caches_and_build_output_are_left_out(tmp_path: Path) -> None:
    make_tree(tmp_path)
    names = zipfile.ZipFile(io.BytesIO(assets.zip_folder(tmp_path))).namelist()
    assert names == [".gitignore", "README.md", "pkg/mod.py", "run.sh"]


@pytest.mark.parametrize("stray", [".env", "notes/secret.txt", "pkg/scratch.py"])
def test_untracked_files_are_not_zipped(tmp_path: Path, stray: str) -> None:
    """A stray file in a seed folder would be pushed into every customer's repository."""
    make_tree(tmp_path)
    before = assets.zip_folder(tmp_path)
    (tmp_path / stray).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / stray).write_text("AWS_SECRET_ACCESS_KEY=do-not-ship\n")
    after = assets.zip_folder(tmp_path)
    assert stray not in zipfile.ZipFile(io.BytesIO(after)).namelist()
    assert after == before


def test_an_untracked_env_in_a_copy_of_a_real_seed_is_not_zipped(tmp_path: Path) -> None:
    clone = [*GIT, "clone", "--quiet", "--no-hardlinks", str(assets.ROOT), str(tmp_path / "repo")]
    subprocess.run(clone, check=True)
    copy = tmp_path / "repo" / "seedcode" / "modeldeploy"
    (copy / ".env").write_text("AWS_SECRET_ACCESS_KEY=do-not-ship\n")
    names = zipfile.ZipFile(io.BytesIO(assets.zip_folder(copy))).namelist()
    assert ".env" not in names and "buildspec.yml" in names


@pytest.mark.parametrize("case", ["file", "folder"])
def test_symbolic_links_are_refused_naming_the_path(tmp_path: Path, case: str) -> None:
    make_tree(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the seed\n")
    link = tmp_path / ("linked.txt" if case == "file" else "linked")
    link.symlink_to(outside / "secret.txt" if case == "file" else outside)
    subprocess.run([*GIT, "-C", str(tmp_path), "add", "--all"], check=True)
    names = ["linked.txt"] if case == "file" else ["linked/secret.txt"]
    with pytest.raises(assets.AssetError, match="symbolic link") as raised:
        assets.zip_files(tmp_path, names)  # listed as a manifest in a copy without .git would list them
    assert str(link) in str(raised.value) and "Replace the link" in str(raised.value)
    if case == "file":  # git tracks a link as a link: the zip of the tracked files refuses it too
        with pytest.raises(assets.AssetError, match="symbolic link"):
            assets.zip_folder(tmp_path)


def test_a_copy_without_git_gives_byte_identical_zips(tmp_path: Path) -> None:
    """An unpacked release has no .git: the committed manifest decides, and the bytes are the same."""
    copy = tmp_path / "release"
    for folder, _ in assets.FOLDERS.values():
        shutil.copytree(assets.ROOT / folder, copy / folder, symlinks=True)
    shutil.copy2(assets.MANIFEST, copy / assets.MANIFEST.relative_to(assets.ROOT))
    (copy / "seedcode" / "modelbuild" / ".env").write_text("stray\n")  # untracked: must not matter
    assert not (copy / ".git").exists()
    in_repo = {name: (a.key, a.data) for name, a in assets.build_assets().items()}
    in_copy = {name: (a.key, a.data) for name, a in assets.build_assets(copy).items()}
    assert in_copy == in_repo


def test_the_manifest_is_what_git_tracks() -> None:
    assert assets.MANIFEST.read_text() == assets.manifest_text(), (
        "seeding/asset-files.txt differs from git ls-files; run `make templates` and commit it"
    )


def test_zips_hold_exactly_the_tracked_files() -> None:
    for name, asset in assets.build_assets().items():
        folder = assets.ROOT / assets.FOLDERS[name][0]
        assert zipfile.ZipFile(io.BytesIO(asset.data)).namelist() == assets.git_files(folder)


def test_timestamps_and_modes_do_not_change_the_bytes(tmp_path: Path) -> None:
    make_tree(tmp_path)
    before = assets.zip_folder(tmp_path)
    past = time.time() - 86400 * 400
    for path in tmp_path.rglob("*"):
        os.utime(path, (past, past))
    (tmp_path / "README.md").chmod(0o600)
    assert assets.zip_folder(tmp_path) == before


def test_executable_bit_is_kept_and_other_modes_normalised(tmp_path: Path) -> None:
    make_tree(tmp_path)
    archive = zipfile.ZipFile(io.BytesIO(assets.zip_folder(tmp_path)))
    modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes["run.sh"] == 0o100755
    assert modes["README.md"] == 0o100644
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize(("case", "change"), [("content", "readme, edited\n"), ("same", "readme\n")])
def test_a_content_change_changes_the_key(tmp_path: Path, case: str, change: str) -> None:
    make_tree(tmp_path)
    before = assets.build_asset("modelbuild", tmp_path, "seedcode").key
    (tmp_path / "README.md").write_text(change)
    after = assets.build_asset("modelbuild", tmp_path, "seedcode").key
    assert (before != after) == (case == "content")


def test_deploy_seed_sample_rows_match_the_build_seeds_preprocessing(tmp_path: Path) -> None:
    """The staging test's rows are rows the model build's preprocess.py writes (same layout, same values)."""
    preprocess = assets.SEED_ROOT / "modelbuild" / "pipelines" / "abalone" / "preprocess.py"
    data = assets.SEED_ROOT / "modelbuild" / "data"
    command = [sys.executable, str(preprocess), "--input-dir", str(data), "--output-dir", str(tmp_path)]
    subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    produced = (tmp_path / "test" / "test.csv").read_text().splitlines()
    shipped = (assets.SEED_ROOT / "modeldeploy" / "test" / "abalone-sample.csv").read_text().splitlines()
    assert shipped, "the deploy seed ships no sample rows"
    for number, (ours, theirs) in enumerate(zip(shipped, produced, strict=False), start=1):
        expected = [float(v) for v in theirs.split(",")]
        got = [float(v) for v in ours.split(",")]
        assert len(got) == len(expected), f"row {number}: {len(got)} columns, preprocess.py: {len(expected)}"
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-5), f"row {number} differs from preprocess.py"


def test_without_the_seed_sources_the_shipped_zips_are_used_byte_for_byte(tmp_path: Path) -> None:
    """An installed wheel has no seedcode/: it uses the zips setup.py built, the ones the templates pin."""
    built = assets.build_assets()
    for asset in built.values():
        (tmp_path / "shipped" / asset.key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "shipped" / asset.key).write_bytes(asset.data)
    shipped = assets.build_assets(root=tmp_path / "site-packages", shipped=tmp_path / "shipped")
    assert shipped == built


def test_without_sources_or_shipped_zips_nothing_is_built(tmp_path: Path) -> None:
    """Empty seed zips would be published by `register` as every project's seed code."""
    with pytest.raises(assets.AssetError, match="seed sources .*missing.*reinstall"):
        assets.build_assets(root=tmp_path, shipped=tmp_path / "shipped")


def test_a_shipped_zip_that_does_not_hash_to_its_name_is_refused(tmp_path: Path) -> None:
    for asset in assets.build_assets().values():
        (tmp_path / asset.key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / asset.key).write_bytes(asset.data + (b"x" if asset.name == "modeldeploy" else b""))
    with pytest.raises(assets.AssetError, match="modeldeploy-.*does not hash to the name"):
        assets.build_assets(root=tmp_path / "nothing", shipped=tmp_path)
