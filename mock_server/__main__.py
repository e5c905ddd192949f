"""Command line: `python -m mock_server [options]` serves the mock; `mint-jwt` makes a dashboard token."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .auth import DEFAULT_JWT_SECRET, mint_jwt
from .fixtures import DEFAULT_FIXTURES, FixtureError
from .lifecycle import AutoClock
from .overrides import Latency
from .reload import Reloading

JWT_SECRET_ENV = "MOCK_JWT_SECRET"


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mock_server",
        description="Serve openapi.yaml as a stateful mock of the Experiments API. "
                    "`python -m mock_server mint-jwt --org ORG` prints a dashboard JWT instead.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=4010, help="port to listen on (default: %(default)s)")
    parser.add_argument("--fixtures", type=Path, help="fixture file that replaces the default world")
    parser.add_argument("--jwt-secret", default=os.environ.get(JWT_SECRET_ENV, DEFAULT_JWT_SECRET),
                        help=f"HS256 secret for dashboard JWTs (env {JWT_SECRET_ENV}; a development default)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allowed browser origin, repeatable (default: any http://localhost:<port> "
                             "and http://127.0.0.1:<port>)")
    parser.add_argument("--validate-responses", action="store_true",
                        help="check every response against the spec too (slower; on in the tests)")
    parser.add_argument("--lifecycle", choices=["manual", "auto"], default="manual",
                        help="auto: new experiments run on a clock (pending, running with progress, completed)")
    parser.add_argument("--run-seconds", type=float, default=20.0,
                        help="with --lifecycle auto: how long an experiment runs (default: %(default)s)")
    parser.add_argument("--latency", metavar="MS|MIN-MAX", type=_latency,
                        help="add this delay (or a random one in the range) to every answer")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="how each rejected request is logged on the terminal")
    parser.add_argument("--no-admin", action="store_true", help="switch off the /__mock__/ endpoints")
    parser.add_argument("--max-sessions", type=int, default=32,
                        help="X-Mock-Session worlds kept at once, oldest evicted (default: %(default)s)")
    parser.add_argument("--watch", action="store_true",
                        help="reload the spec and the fixtures when they change on disk")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def _latency(text: str) -> Latency:
    try:
        return Latency.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _mint_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mock_server mint-jwt",
                                     description="Print a dashboard JWT for an organization of the mock.")
    parser.add_argument("--org", required=True, help="organization id (org_acme in the default world)")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (default: %(default)s)")
    parser.add_argument("--jwt-secret", default=os.environ.get(JWT_SECRET_ENV, DEFAULT_JWT_SECRET),
                        help=f"HS256 secret (env {JWT_SECRET_ENV}); must match the server's")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mint-jwt"]:
        args = _mint_parser().parse_args(argv[1:])
        print(mint_jwt(args.org, args.jwt_secret, ttl_seconds=args.ttl))
        return 0
    args = _serve_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")

    import uvicorn

    from .app import build_app
    from .spec import SPEC_PATH

    def build():
        return build_app(fixtures=args.fixtures, jwt_secret=args.jwt_secret,
                         validate_responses=args.validate_responses, cors_origins=args.cors_origin,
                         clock=AutoClock(run_seconds=args.run_seconds) if args.lifecycle == "auto" else None,
                         latency=args.latency, admin=not args.no_admin, log_json=args.log_format == "json",
                         max_sessions=args.max_sessions)

    try:
        mock = build()
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    served = mock.asgi
    if args.watch:
        reloading = Reloading(lambda: build().asgi, [SPEC_PATH, args.fixtures or DEFAULT_FIXTURES],
                              initial=mock.asgi)
        reloading.watch()
        served = reloading
    url = f"http://{args.host}:{args.port}/api/v2"
    print(f"Experiments API mock on {url}/experiments/")
    print(f"  docs (Swagger UI): {url}/ui/")
    for org in mock.store.export().values():
        for key in org.api_keys:
            print(f"  API key of {org.id}: {key}")
    print("  dashboard JWT: python -m mock_server mint-jwt --org ORG", flush=True)
    if not args.no_admin:
        print(f"  mock controls: http://{args.host}:{args.port}/__mock__/ (reset, lifecycle, faults, requests, state)")
    uvicorn.run(served, host=args.host, port=args.port, log_level=args.log_level,
                access_log=args.log_level == "debug")
    return 0


if __name__ == "__main__":
    sys.exit(main())
