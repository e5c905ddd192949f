"""The mock (default world and settings) as an importable ASGI app, for servers that load one by name
(`hypercorn mock_asgi:app`, `granian --interface asgi mock_asgi:app`) in bench/servers.py."""

from mock_server.app import build_app

app = build_app().asgi
