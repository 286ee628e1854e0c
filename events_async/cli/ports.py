"""Where the servers of the command listen by default, and what they say when they cannot.

`fake-server` (and `python -m events_async.testing`) default to port 0, any free one: the
`export` lines they print carry the port, so nothing needs to know it in advance, and
starting a second fake never collides with the first. `listen` defaults to 8080, a port a
tunnel or a sink's destination can name. Every command that listens answers an address it
cannot use with one line and exit status 2, and a port in use with a hint: `--port 0`.
"""

from __future__ import annotations

import errno

__all__ = ["FAKE_SERVER_PORT", "LISTEN_PORT", "cannot_listen"]

FAKE_SERVER_PORT = 0
LISTEN_PORT = 8080


def cannot_listen(host: str, port: int, error: OSError, *, flag: str = "--port") -> str:
    """The one line for an address that cannot be listened on: why, and for a port in
    use, how to get a free one (`flag` 0)."""
    if error.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {host}:{port}: the port is in use "
            f"(another server on it? {flag} 0 picks a free one)"
        )
    return f"cannot listen on {host}:{port}: {error.strerror or error}"
