"""Print every figure of every bench module, one section per module, in a stable order."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOGS = HERE.parent / "build" / "bench"


def modules() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(HERE)]) if not info.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help=f"modules to run (default: all of {', '.join(modules())})")
    args = parser.parse_args(argv)
    failed = 0
    for name in args.only or modules():
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        # What the section's programs print (progress of the commands, the in-process Lambdas' output) goes to
        # a log file, so the figures stand alone.
        LOGS.mkdir(parents=True, exist_ok=True)
        try:
            with (
                (LOGS / f"{name}.log").open("w") as log,
                contextlib.redirect_stdout(log),
                contextlib.redirect_stderr(log),
            ):
                rows = importlib.import_module(f"bench.{name}").run()
        except Exception:  # noqa: BLE001 - a broken bench is reported, and the others still run
            failed += 1
            traceback.print_exc()
            print(f"  (its output: {LOGS / f'{name}.log'})")
            continue
        width = max((len(label) for label, _ in rows), default=0)
        for label, value in rows:
            print(f"  {label:<{width}}  {value}")
        print(f"  ({time.perf_counter() - started:.1f} s for this section)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
