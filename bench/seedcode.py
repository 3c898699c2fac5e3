"""Seed code figures: the size of each asset zip, the time of a check-in against the loopback Git server."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seeding import assets
from standin.gitserver import GitServer

CHECKINS = 3


def _checkin(script: Path, repo_url: str, seed_zip: Path, seed_id: str, home: Path) -> tuple[float, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    command = [sys.executable, str(script), "--repo-url", repo_url, "--branch", "main"]
    command += ["--seed-zip", str(seed_zip), "--seed-id", seed_id]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=120)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"check-in failed ({result.returncode}): {result.stderr}")
    return elapsed, result.stdout


def checkin_times(count: int = CHECKINS) -> tuple[list[float], list[float]]:
    """Seconds of `count` check-ins of the modelbuild seed into new repositories, and of the same again
    (nothing to do): the work a seeding build does, done directly."""
    seed = assets.build_assets()[assets.MODELBUILD]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        seed_zip = root / "seed.zip"
        seed_zip.write_bytes(seed.data)
        (root / "home").mkdir()
        script = assets.BOOTSTRAP_DIR / "checkin.py"
        first, again = [], []
        with GitServer(root / "repos") as server:
            for index in range(count):
                name = f"bench/repo-{index}"
                server.create_repository(name, readme="placeholder\n")
                url = server.proxy_url("123456789012", "us-east-1", "bench", name)
                first.append(_checkin(script, url, seed_zip, seed.key.rsplit("/", 1)[-1], root / "home")[0])
                again.append(_checkin(script, url, seed_zip, seed.key.rsplit("/", 1)[-1], root / "home")[0])
    return first, again


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name, asset in assets.build_assets().items():
        rows.append((f"{name} zip", f"{len(asset.data):,} bytes ({asset.key})"))
    first, again = checkin_times()
    rows.append((f"check-in of the modelbuild seed, median of {CHECKINS}", f"{median(first):.2f} s"))
    rows.append(("second check-in (nothing to do), median", f"{median(again):.2f} s"))
    return rows
