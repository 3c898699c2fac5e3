"""Figures of the stand-in: start-up time (in-process and `python -m standin`), `bootstrap` + `register`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from demo.account import register_product
from standin.server import StandIn

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "templates" / "mlops-third-party-git-v1.yaml"


def run() -> list[tuple[str, str]]:
    rows = []
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "standin"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        for line in process.stdout or []:
            if line.startswith("#"):
                break
        rows.append(("python -m standin, launch to exports printed", f"{time.perf_counter() - began:.2f} s"))
    finally:
        process.terminate()
        process.wait(timeout=20)
    with StandIn() as aws:
        rows.append(("StandIn.start() in-process (moto imported)", f"{aws.started_seconds:.2f} s"))
        timings = []
        for _ in range(3):
            aws.reset()
            started = time.perf_counter()
            register_product(aws, TEMPLATE)
            timings.append(time.perf_counter() - started)
        best = f"{min(timings) * 1000:.0f} ms"
        rows.append(("sm-mlops bootstrap + register (in-process), best of 3", best))
    return rows
