"""`python -m scripts.preview architecture [--check] PATH`: write (or check) the README's architecture SVG."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.preview import architecture
from scripts.templates import read_template, template_path

README_VARIANT = "v1"


def architecture_svg() -> str:
    template = read_template(template_path(README_VARIANT, "service-catalog"))[1]
    return architecture.svg(template, f"Architecture of the {README_VARIANT} template")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.preview")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("architecture", help="write the architecture SVG of the v1 template")
    p.add_argument("path", type=Path)
    p.add_argument("--check", action="store_true", help="fail when the file differs from a fresh drawing")
    args = parser.parse_args(argv)
    fresh = architecture_svg()
    if args.check:
        if not args.path.is_file() or args.path.read_text(encoding="utf-8") != fresh:
            print(f"{args.path} is stale: run `make architecture` and commit it", file=sys.stderr)
            return 1
        return 0
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
