"""`python -m generator render --out templates [--all-conditions-on]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.render import render_all


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
    args = parser.parse_args(argv)
    for path in render_all(args.out, all_conditions_on=args.all_conditions_on):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
