"""``python -m standin`` (``make standin``): run the stand-in in the foreground until Ctrl-C.

It first prints ``export`` lines; paste them (or ``eval "$(...)"`` the first lines) in another shell and the
AWS CLI, boto3, git and ``sm-mlops`` talk to the stand-in.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading

from standin.server import ADMIN_PREFIX, StandIn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port of the AWS endpoint (default: a free one)")
    parser.add_argument("--proxy-port", type=int, default=0, help="port of the HTTPS proxy (default: free)")
    parser.add_argument("--region", default=None, help="region (default: $AWS_REGION or us-east-1)")
    args = parser.parse_args(argv)
    for name, value in (("--port", args.port), ("--proxy-port", args.proxy_port)):
        if not 0 <= value <= 65535:
            parser.error(f"{name} {value} is not a port: give 1-65535, or 0 for a free one")
    standin = StandIn(region=args.region, port=args.port, proxy_port=args.proxy_port)
    try:
        standin.start()
    except OSError as error:
        print(f"cannot start the stand-in: {error} (is the port in use? try --port 0)", file=sys.stderr)
        return 1
    for name, value in standin.env.items():
        print(f"export {name}={shlex.quote(value)}")
    admin = f"{standin.endpoint_url}{ADMIN_PREFIX}"
    print(f"# AWS stand-in ready in {standin.started_seconds:.2f} s at {standin.endpoint_url}, Ctrl-C stops")
    print(f'# new GitHub repository: curl -X POST {admin}repositories -d \'{{"full_name": "owner/repo"}}\'')
    print(f'# authorise a connection: curl -X POST {admin}connections/authorize -d \'{{"arn": "..."}}\'')
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
