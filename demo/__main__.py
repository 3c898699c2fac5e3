"""`python -m demo` (= `make demo`)."""

from __future__ import annotations

import argparse
import sys

from demo.walkthrough import DemoFailed, print_table, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each watched step")
    parser.add_argument("--project", default="abalone", help="the project's name")
    args = parser.parse_args(argv)
    try:
        result = run(project=args.project, timeout=args.timeout)
    except DemoFailed as error:
        print(f"\ndemo failed at step {error.step!r}: {error}", file=sys.stderr)
        return 1
    print_table(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
