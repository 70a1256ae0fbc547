"""A small stdlib HTTP service on its own thread (the demo's ticket service, the
codec server): start, stop, its URL, and serving until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, ClassVar, Self


class ServiceServer(ThreadingHTTPServer):
    """Hands each request handler the service it serves, as `self.server.service`."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], service: Any
    ) -> None:
        self.service = service
        super().__init__(address, handler)


class ThreadedService:
    name: ClassVar[str] = "http-service"
    handler: ClassVar[type[BaseHTTPRequestHandler]]

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._server: ServiceServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._server = ServiceServer(self._address, self.handler, self)
        # A short poll interval keeps stop() (which waits for the next poll) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_signal(service: ThreadedService, banner: str) -> None:
    """Runs `service` until SIGTERM or SIGINT, then stops it cleanly."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.start()
    print(banner.format(url=service.url), flush=True)
    try:
        stopping.wait()
    finally:
        service.stop()
