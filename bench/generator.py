"""Generator figures: time to render and cfn-lint every variant, each template's size and resource count."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

INLINE_LIMIT = 51_200  # bytes: CloudFormation's limit for a template body passed inline
RESOURCE_LIMIT = 500


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "generator", "render", "--out", str(out)], check=True, capture_output=True
        )
        rows.append(("render all variants (fresh process)", f"{time.perf_counter() - started:.2f} s"))
        paths = sorted(out.glob("*.yaml"))
        cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
        started = time.perf_counter()
        result = subprocess.run(
            [cfn_lint, "--include-checks", "I", "--", *map(str, paths)], capture_output=True, text=True
        )
        verdict = (
            "clean"
            if result.returncode == 0 and not result.stdout
            else f"{result.stdout.count(chr(10))} lines"
        )
        rows.append(
            (
                f"cfn-lint --include-checks I, {len(paths)} variants",
                f"{time.perf_counter() - started:.2f} s ({verdict})",
            )
        )
        for path in paths:
            size = path.stat().st_size
            resources = len(yaml.safe_load(path.read_text())["Resources"])
            rows.append(
                (
                    path.stem,
                    f"{size:,} bytes ({size / INLINE_LIMIT:.0%} of {INLINE_LIMIT:,}), "
                    f"{resources} resources (limit {RESOURCE_LIMIT})",
                )
            )
    return rows
