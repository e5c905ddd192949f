"""Every limit the mock holds a request to, in one place (docs/operator.md, "Reliability and security", lists them).

They bound the work one request can cause, so that whatever arrives is answered in time linear in
its size and no request holds up the others.
"""

from __future__ import annotations

MAX_BODY_BYTES = 1024 * 1024  # a larger body is 413, whether announced or streamed
MAX_HEADER_BYTES = 32 * 1024  # names and values of all request headers together; more is 431
MAX_URL_BYTES = 16 * 1024  # path and query string together; more is 414
MAX_JSON_DEPTH = 64  # arrays and objects nested deeper are 400, found before the body is parsed
BODY_TIMEOUT_SECONDS = 10.0  # a body that has not fully arrived by then is 408 and the connection closed
KEEP_ALIVE_SECONDS = 5  # an idle keep-alive connection is closed after this long (uvicorn)

# What the HTTP server holds a connection to (mock_server/server.py), before any request reaches the app.
MAX_HEAD_BYTES = 64 * 1024  # request line and headers (or a chunked body's trailer); more is 431 and closed
HEAD_TIMEOUT_SECONDS = 10.0  # a connection's next request head must be complete this long after its first byte
IDLE_CONNECTION_SECONDS = 10.0  # a new connection that sends nothing is closed after this long
MAX_PIPELINED_REQUESTS = 8  # requests read ahead of the one being answered; the rest waits in the kernel

# What one session may hold (mock_server/sessions.py, store.py).
MAX_EXPERIMENTS_PER_ORGANIZATION = 1000  # in one session; a create past it is 409
MAX_WORLD_BYTES = 8 * 1024 * 1024  # the experiments of one session, as JSON; a write past it is 409
SESSION_IDLE_SECONDS = 3600  # a named session untouched this long may be evicted to make room for a new one

MAX_REPORTED_ERRORS = 50  # messages in one 400 body; the rest are counted, not listed
MAX_FIELD_CHARS = 200  # a field name in an error body (a longer one is cut, with "…")
MAX_MESSAGE_CHARS = 500  # one message in an error body

MAX_LOGGED_ERRORS = 10  # errors kept per entry of the request log (the rest are counted)
MAX_LOGGED_CHARS = 300  # a path, field or message in the request log and on the terminal
MAX_LOGGED_BODY_BYTES = 4096  # of a request or response body kept in the request log
MAX_LOGGED_FINDINGS = 20  # contract findings kept per proxied exchange in the request log (the rest are counted)

MAX_VALIDATED_BYTES = 1024 * 1024  # proxy: a larger request or response body passes through unvalidated, noted
UPSTREAM_TIMEOUT_SECONDS = 30.0  # proxy: connecting to, writing to and reading from the upstream
