"""Print (or write) the JSON definition of the pipeline a module's `get_pipeline` builds.

    get-pipeline-definition --module-name pipelines.abalone.pipeline --kwargs '{"region": "...", ...}' \\
        [--file-name pipeline.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines._utils import get_pipeline_driver, parse_json_argument


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--module-name", required=True, help="module with get_pipeline")
    parser.add_argument("--kwargs", default=None, help="JSON object of keyword arguments for get_pipeline")
    parser.add_argument("-f", "--file-name", type=Path, default=None, help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        pipeline = get_pipeline_driver(args.module_name, parse_json_argument("kwargs", args.kwargs, dict))
    except (ValueError, FileNotFoundError) as error:
        print(f"get-pipeline-definition: {error}", file=sys.stderr)
        return 2
    text = json.dumps(json.loads(pipeline.definition()), indent=2) + "\n"
    if args.file_name:
        args.file_name.write_text(text)
        print(f"wrote {args.file_name}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
