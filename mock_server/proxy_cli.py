"""`python -m mock_server proxy --upstream URL [options]`: its options and its banner."""

from __future__ import annotations

import argparse
from pathlib import Path

from .limits import UPSTREAM_TIMEOUT_SECONDS
from .proxy import SUMMARY_HEADER, ProxyOptions, ValidatingProxy, upstream_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The proxy's own options, beside the mock's (`--host`, `--port`, `--cors-origin`, the controls, …)."""
    parser.prog = "python -m mock_server proxy"
    parser.description = ("Forward the API's requests to a real deployment and judge every exchange against "
                          "openapi.yaml: violations (documented behaviour broken) and refuted assumptions (the "
                          "mock's choices), in the request log, the console at /__mock__/ and a header.")
    group = parser.add_argument_group("proxy")
    group.add_argument("--upstream", required=True, type=_upstream, metavar="URL",
                       help="the deployment's API root, the spec's paths hang from it "
                            "(https://staging.example.com/api/v2)")
    group.add_argument("--errors", action="store_true",
                       help="hard mode: answer a request that breaks the documented contract with the mock's own "
                            "400/401 instead of forwarding it, and replace an upstream answer that violates it "
                            "with a 502 problem body saying why")
    group.add_argument("--strict", action="store_true", help="with --errors: refuted assumptions too")
    group.add_argument("--mock-missing", action="store_true",
                       help="answer from the stateful mock the documented operations the upstream does not have "
                            "(405, 501, or a 404 that is not JSON)")
    group.add_argument("--record", type=Path, metavar="FILE",
                       help="write the exchanges to FILE as HAR (tokens masked) and their findings to "
                            "FILE's .findings.jsonl beside it")
    group.add_argument("--html", type=Path, metavar="FILE",
                       help="with --record: write the session's report (the contract run's HTML report) at exit")
    group.add_argument("--timeout", type=float, default=UPSTREAM_TIMEOUT_SECONDS,
                       help="seconds to connect to, send to and hear from the upstream (default: %(default)s)")


def _upstream(text: str) -> str:
    try:
        return upstream_root(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def options(args: argparse.Namespace, spec_path: Path) -> ProxyOptions:
    if args.html and not args.record:
        raise SystemExit("error: --html needs --record (the report is made from the recording)")
    return ProxyOptions(upstream=args.upstream, errors=args.errors or args.strict, strict=args.strict,
                        mock_missing=args.mock_missing, spec=spec_path, timeout=args.timeout, record=args.record,
                        html=args.html)


def banner(url: str, proxy: object) -> list[str]:
    """The proxy's first lines on the terminal (before the mock's)."""
    if not isinstance(proxy, ValidatingProxy):
        return []
    opts = proxy.options
    lines = [f"Validating proxy on {url}/ -> {opts.upstream}/ ({opts.mode}"
             f"{', --mock-missing' if opts.mock_missing else ''})",
             f"  every exchange judged against {opts.spec.name}: findings in the request log, the console and "
             f"the {SUMMARY_HEADER} header"]
    if opts.record:
        lines.append(f"  recording to {opts.record} (HAR) and {proxy.recorder.findings_path if proxy.recorder else ''}")
    return lines
