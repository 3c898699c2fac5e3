"""Print every figure of every bench module, one section per module, in a stable order."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


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
        try:
            rows = importlib.import_module(f"bench.{name}").run()
        except Exception:  # noqa: BLE001 - a broken bench is reported, and the others still run
            failed += 1
            traceback.print_exc()
            continue
        width = max((len(label) for label, _ in rows), default=0)
        for label, value in rows:
            print(f"  {label:<{width}}  {value}")
        print(f"  ({time.perf_counter() - started:.1f} s for this section)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
