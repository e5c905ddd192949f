"""Command line: `python -m mock_server [options]` serves the mock; `mint-jwt` makes a dashboard token."""

from __future__ import annotations

import argparse
import errno
import logging.config
import math
import os
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .admin import ADMIN_TOKEN_HEADER
from .auth import DEFAULT_JWT_SECRET, mint_jwt
from .fixtures import DEFAULT_FIXTURES, FixtureError
from .guard import LOOPBACK_NAMES, bind_names, is_loopback
from .lifecycle import AutoLifecycle
from .logs import log_config
from .overrides import Latency
from .reload import Reloading

JWT_SECRET_ENV = "MOCK_JWT_SECRET"
MAX_SESSIONS_LIMIT = 1000  # each session may hold MAX_WORLD_BYTES of experiments
MAX_RUN_SECONDS = 7 * 24 * 3600


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option answered in one line (`prog: error: …`, exit 2) instead of usage and error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.strip().isascii() or not text.strip().lstrip("+").isdigit():
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value <= MAX_RUN_SECONDS):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds above 0 and at most {MAX_RUN_SECONDS}")
    return value


def _serve_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m mock_server",
        description="Serve openapi.yaml as a stateful mock of the Experiments API. "
                    "`python -m mock_server proxy --upstream URL` serves a validating proxy in front of a real "
                    "deployment instead (`proxy --help`); `python -m mock_server mint-jwt --org ORG` prints a "
                    "dashboard JWT.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to listen on (default: %(default)s; another than loopback makes the mock "
                             "reachable from the network and switches the /__mock__ controls off unless "
                             "--admin-token is given)")
    parser.add_argument("--port", type=_whole(0, 65535), default=4010, help="port to listen on (default: %(default)s)")
    parser.add_argument("--spec", type=Path, metavar="PATH",
                        help="the OpenAPI document to serve (default: the openapi.yaml this package ships)")
    parser.add_argument("--fixtures", type=Path, help="fixture file that replaces the default world")
    parser.add_argument("--jwt-secret", default=os.environ.get(JWT_SECRET_ENV, DEFAULT_JWT_SECRET),
                        help=f"HS256 secret for dashboard JWTs (env {JWT_SECRET_ENV}; a development default)")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="allowed browser origin, repeatable; '*' allows every origin (without credentials) "
                             "(default: any http://localhost:<port> and http://127.0.0.1:<port>)")
    parser.add_argument("--validate-responses", action="store_true",
                        help="check every response against the spec too (slower; on in the tests)")
    parser.add_argument("--lifecycle", choices=["manual", "auto"], default="manual",
                        help="auto: new experiments run on a clock (pending, running with progress, completed)")
    parser.add_argument("--run-seconds", type=_seconds, default=20.0,
                        help="with --lifecycle auto: how long an experiment runs (default: %(default)s)")
    parser.add_argument("--latency", metavar="MS|MIN-MAX", type=_latency,
                        help="add this delay (or a random one in the range) to every answer")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="how each rejected request is logged on the terminal")
    parser.add_argument("--no-admin", action="store_true", help="switch off the /__mock__/ endpoints")
    parser.add_argument("--admin-token", metavar="TOKEN",
                        help=f"require this token in the {ADMIN_TOKEN_HEADER} header of every /__mock__/ call "
                             "(needed to keep the controls on when --host is not a loopback address)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a Host name the mock answers to besides localhost, 127.0.0.1 and [::1] (and the "
                             "--host address), repeatable; requests for any other Host are refused")
    parser.add_argument("--max-sessions", type=_whole(1, MAX_SESSIONS_LIMIT), default=32,
                        help="X-Mock-Session worlds kept at once (default: %(default)s); a new one replaces the least "
                             "recently used one that holds no changes or was idle for an hour, else refused (429)")
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
    parser = _Parser(prog="python -m mock_server mint-jwt",
                     description="Print a dashboard JWT for an organization of the mock.")
    parser.add_argument("--org", required=True, help="organization id (org_acme in the default world)")
    parser.add_argument("--ttl", type=_whole(1, 10 * 365 * 24 * 3600), default=3600,
                        help="seconds until it expires (default: %(default)s)")
    parser.add_argument("--jwt-secret", default=os.environ.get(JWT_SECRET_ENV, DEFAULT_JWT_SECRET),
                        help=f"HS256 secret (env {JWT_SECRET_ENV}); must match the server's")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["mint-jwt"]:
        args = _mint_parser().parse_args(argv[1:])
        print(mint_jwt(args.org, args.jwt_secret, ttl_seconds=args.ttl))
        return 0
    proxying = argv[:1] == ["proxy"]
    parser = _serve_parser()
    if proxying:  # the same server, guard, controls and options, the API's requests forwarded (proxy_cli.py)
        from . import proxy_cli

        proxy_cli.add_arguments(parser)
        argv = argv[1:]
    args = parser.parse_args(argv)
    local = is_loopback(args.host)
    admin = not args.no_admin and (local or bool(args.admin_token))
    allowed_hosts = [*args.allowed_host, *bind_names(args.host)]

    import uvicorn

    from .app import MockApp, build_app
    from .server import SERVER_OPTIONS
    from .spec import SPEC_PATH

    spec_path = args.spec or SPEC_PATH
    forwarder = None
    if proxying:
        from .proxy import forwarder as proxy_forwarder

        forwarder = proxy_forwarder(proxy_cli.options(args, spec_path))

    def build() -> MockApp:
        return build_app(fixtures=args.fixtures, spec_path=spec_path, jwt_secret=args.jwt_secret,
                         validate_responses=args.validate_responses, cors_origins=args.cors_origin,
                         lifecycle=AutoLifecycle(run_seconds=args.run_seconds) if args.lifecycle == "auto" else None,
                         latency=args.latency, admin=admin, admin_token=args.admin_token,
                         allowed_hosts=allowed_hosts,
                         log_json=args.log_format == "json", max_sessions=args.max_sessions,
                         forwarder=forwarder)

    try:
        mock = build()
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {exc.filename or spec_path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (LookupError, ValueError) as exc:  # a spec the mock cannot serve (an operation without handler or caller)
        print(f"error: {spec_path}: {exc}", file=sys.stderr)
        return 2
    busy = _port_problem(args.host, args.port)
    if busy:
        print(f"error: cannot listen on {args.host}:{args.port}: {busy}", file=sys.stderr)
        return 2
    credentials = [*mock.store.api_keys(), *([args.admin_token] if args.admin_token else [])]
    logging_config = log_config(args.log_level, json_lines=args.log_format == "json", api_keys=credentials)
    logging.config.dictConfig(logging_config)
    served = mock.asgi
    if args.watch:
        reloading = Reloading(lambda: build().asgi, [spec_path, args.fixtures or DEFAULT_FIXTURES],
                              initial=mock.asgi)
        reloading.watch()
        served = reloading
    # On 0.0.0.0 or :: the mock is reached locally by a loopback name (the only Host names it serves there).
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(args.host) or (
        f"[{args.host}]" if ":" in args.host else args.host)
    url = f"http://{host}:{args.port}/api/v2"
    keys = [(org.id, key) for org in mock.store.export().values() for key in org.api_keys]
    if proxying:
        for line in proxy_cli.banner(url, mock.forwarder):
            print(line)
    mock_answers = not proxying or bool(getattr(getattr(mock.forwarder, "options", None), "mock_missing", False))
    if not proxying:
        print(f"Experiments API mock on {url}/experiments/")
    elif mock_answers:
        print(f"  what the upstream lacks, answered by the mock (--mock-missing): {url}/experiments/")
    print(f"  docs (Swagger UI): {url}/ui/")
    for org_id, key in keys if mock_answers else []:
        print(f"  API key of {org_id}: {key}")
    if mock_answers and keys:
        print(f"  dashboard JWT: {command()} mint-jwt --org {keys[0][0]}")
    if admin:
        token = f", {ADMIN_TOKEN_HEADER} required" if args.admin_token else ""
        print(f"  mock controls: http://{host}:{args.port}/__mock__/ "
              f"(open it in a browser for the console; reset, lifecycle, faults, requests, state{token})")
    if not local:
        print(_network_warning(args, [key for _, key in keys], [*LOOPBACK_NAMES, *allowed_hosts], admin), end="")
    sys.stdout.flush()
    uvicorn.run(served, host=args.host, port=args.port, log_level=args.log_level, log_config=logging_config,
                access_log=args.log_level == "debug", **SERVER_OPTIONS)
    return 0


def _port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on `host:port` (the port is taken, the address is not this
    machine's), or None. Checked before the banner, so a busy port is one line, not a banner and a
    traceback; the socket is closed again at once (uvicorn binds its own, SO_REUSEADDR as here)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return str(exc.strerror or exc)
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            return f"{reason.lower()} (another program uses port {port}; stop it or pass --port)"
        return reason.lower()
    return None


def command() -> str:
    """This command line as it can be typed from the current directory: `experiments-mock` when that
    is the one on PATH, else the path of this environment's console script (`.venv/bin/experiments-mock`
    after `make mock`), else this Python with `-m mock_server`."""
    bin_dir = Path(sys.executable).parent
    script = bin_dir / "experiments-mock"
    if not script.exists():
        return f"{_typed(Path(sys.executable))} -m mock_server"
    on_path = shutil.which("experiments-mock")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "experiments-mock"
    return _typed(script)


def _typed(path: Path) -> str:
    """`path` relative to the current directory when it is below it (`.venv/bin/…`), else absolute."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _network_warning(args: argparse.Namespace, keys: list[str], names: list[str], admin: bool) -> str:
    """What the developer must know before a mock bound to the network serves anyone."""
    secret = ("the development default published in this repository: anyone can mint tokens "
              "(set --jwt-secret or MOCK_JWT_SECRET)" if args.jwt_secret == DEFAULT_JWT_SECRET
              else "the one given with --jwt-secret or MOCK_JWT_SECRET")
    lines = [
        f"WARNING: the mock listens on {args.host}: anyone who can reach this machine can call it.",
        f"  It accepts the development API keys above ({', '.join(keys) or 'none'}), published with the",
        f"  fixtures, and dashboard JWTs signed with {secret}.",
        f"  It answers to the Host names {', '.join(names)}; add the name your team uses with --allowed-host.",
        ("  The /__mock__ controls are on and need the " + ADMIN_TOKEN_HEADER + " header." if admin else
         "  The /__mock__ controls are off (start with --admin-token TOKEN to use them over the network)."),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
