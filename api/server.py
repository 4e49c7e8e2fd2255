"""`qa serve`'s HTTP server: hypercorn, set so that idle and slow clients cannot take the service down.

Measured against uvicorn 0.55, hypercorn 0.18 and granian 2.8 (docs/limits.md has the figures):
uvicorn has no header-read timeout and counts idle sockets against its only connection limit, so 256 sockets that
never finish a request line shut everyone out; hypercorn closes a connection that has not completed its headers
within ``keep_alive_timeout`` (also when it drips a byte a second), answers 431 to headers over
``h11_max_incomplete_size``, and runs in this process like uvicorn did. granian does the same, but only with worker
processes or its in-process mode, which it still calls experimental.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, cast

from fastapi import FastAPI

from qa.config import Settings

if TYPE_CHECKING:
    from hypercorn.config import Config
    from hypercorn.typing import ASGIFramework

# Connections waiting to be accepted: a burst of clients queues instead of being refused (Linux caps it at somaxconn).
BACKLOG = 2048
# Request line and headers together: more is answered 431 (a browser sends a few KiB; cookies rarely reach 8 KiB).
MAX_HEADER_BYTES = 64 * 1024
# At shutdown the app waits up to api.app.JOB_STOP_SECONDS for a running job's batch; the server must wait longer.
SHUTDOWN_SECONDS = 150.0


def run(app: FastAPI, settings: Settings, host: str, port: int, log_level: str) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut down gracefully (the app's lifespan stops background jobs)."""
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.backlog = BACKLOG
    # from accept (or the end of the last response) to complete request headers, and between keep-alive requests
    config.keep_alive_timeout = settings.keep_alive_seconds
    config.h11_max_incomplete_size = MAX_HEADER_BYTES
    config.shutdown_timeout = SHUTDOWN_SECONDS
    config.loglevel = log_level.upper()
    config.accesslog = "-" if log_level.lower() in ("debug", "info") else None
    asyncio.run(_serve(app, config))


async def _serve(app: FastAPI, config: Config) -> None:
    from hypercorn.asyncio import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(cast("ASGIFramework", app), config, shutdown_trigger=stop.wait)
