"""Entry point: `python -m drf_backend --port PORT` serves the API with uvicorn on a fresh, seeded SQLite file."""

import argparse
import asyncio
import os
import signal
import sys
import tempfile

from drf_backend.faults import FAULTS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m drf_backend", description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--fault",
        choices=FAULTS,
        default=os.environ.get("DRF_BACKEND_FAULT") or None,
        help="plant one fault (default: $DRF_BACKEND_FAULT)",
    )
    parser.add_argument(
        "--fault-header",
        action="store_true",
        help="plant the fault each request names in its X-Drf-Fault header (the proxy's tests)",
    )
    parser.add_argument(
        "--start-running-after",
        type=float,
        metavar="SECONDS",
        default=os.environ.get("DRF_BACKEND_START_RUNNING_AFTER") or None,
        help="pending experiments become running this long after creation (default: $DRF_BACKEND_START_RUNNING_AFTER)",
    )
    args = parser.parse_args(argv)
    if args.fault is not None and args.fault not in FAULTS:
        parser.error(f"DRF_BACKEND_FAULT must be one of {', '.join(FAULTS)}")
    if args.start_running_after is not None and float(args.start_running_after) < 0:
        parser.error("--start-running-after must be >= 0")
    return args


async def serve(server, url: str) -> None:
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if server.started:
        print(f"ready {url}", flush=True)
    await task


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fd, db_path = tempfile.mkstemp(prefix="drf_backend_", suffix=".sqlite3")
    os.close(fd)
    os.environ["DRF_BACKEND_DB"] = db_path
    os.environ["DRF_BACKEND_FAULT"] = args.fault or ""
    os.environ["DRF_BACKEND_FAULT_HEADER"] = "1" if args.fault_header else ""
    start_after = args.start_running_after
    os.environ["DRF_BACKEND_START_RUNNING_AFTER"] = "" if start_after is None else str(float(start_after))
    os.environ["DJANGO_SETTINGS_MODULE"] = "drf_backend.settings"
    try:
        import django
        import uvicorn
        from django.core.asgi import get_asgi_application
        from django.core.management import call_command

        django.setup()
        call_command("migrate", run_syncdb=True, verbosity=0)
        from drf_backend import seed

        seed.load()
        config = uvicorn.Config(
            get_asgi_application(), host="127.0.0.1", port=args.port, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        # uvicorn re-raises the SIGTERM it handled once it has shut down; a no-op handler lets us clean up.
        signal.signal(signal.SIGTERM, lambda *_: None)
        asyncio.run(serve(server, f"http://127.0.0.1:{args.port}/api/v2"))
        return 0
    finally:
        os.remove(db_path)


if __name__ == "__main__":
    sys.exit(main())
