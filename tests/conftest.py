"""What every test folder may share: the seed zips built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from seeding import assets

_ASSETS: dict[str, Any] = {}
_BUILD_ASSETS = assets.build_assets


def _cached_assets() -> dict[str, Any]:
    """The seed zips, built once per test session (they take ~0.5 s and do not change during it)."""
    if not _ASSETS:
        _ASSETS.update(_BUILD_ASSETS())
    return dict(_ASSETS)


@pytest.fixture
def cached_assets(monkeypatch: pytest.MonkeyPatch) -> None:
    """`seeding.assets.build_assets` answers from the session's one build (what `register` uploads)."""
    monkeypatch.setattr(assets, "build_assets", _cached_assets)


@pytest.fixture
def next_release_assets(tmp_path: Path) -> dict[str, assets.Asset]:
    """The seed and bootstrap zips of another release: a copy of this tree's asset folders with one file of
    each changed, zipped by `seeding.assets` as `make templates` zips a checkout."""
    root = tmp_path / "next-release"
    for folder, _ in assets.FOLDERS.values():
        shutil.copytree(assets.ROOT / folder, root / folder)
    shutil.copy(assets.MANIFEST, root / assets.MANIFEST.relative_to(assets.ROOT))
    files = assets.read_manifest(root)
    for name, (folder, _) in assets.FOLDERS.items():
        changed = root / folder / next(f for f in files[name] if f.endswith((".md", ".py")))
        changed.write_text(changed.read_text() + "\n# the next release\n")
    built = _BUILD_ASSETS(root)
    current = _cached_assets()
    assert all(built[name].key != current[name].key for name in built), "the next release zipped the same"
    return built
