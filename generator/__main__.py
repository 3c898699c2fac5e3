"""`python -m generator render --out templates [--all-conditions-on]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.render import render_all, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator", description="Render the product template variants"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="write every variant as YAML")
    render.add_argument("--out", type=Path, default=Path("templates"), help="folder to write into")
    render.add_argument(
        "--all-conditions-on",
        action="store_true",
        help="make every condition true (for scanners such as checkov)",
    )
    render.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a file in --out differs from a fresh render",
    )
    args = parser.parse_args(argv)
    if args.check:
        differing = stale(args.out)
        for name in differing:
            print(f"{args.out / name}.yaml differs from a fresh render: run `make templates` and commit")
        return 1 if differing else 0
    for path in render_all(args.out, all_conditions_on=args.all_conditions_on):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
