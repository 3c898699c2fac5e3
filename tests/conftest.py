"""What every test folder may share: the seed zips built once per session."""

from __future__ import annotations

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
