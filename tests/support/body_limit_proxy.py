"""An HTTP proxy in front of the service under test with a smaller body limit (the TCP
proxy that loses answers is tcp_proxy.py, beside it)."""

from __future__ import annotations

import http.server
import threading
from types import TracebackType

import httpx

NGINX_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n"
    b"<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n</body>\r\n</html>\r\n"
)


class BodyLimitProxy:
    """An HTTP reverse proxy with a smaller body limit than the service's, as nginx's
    `client_max_body_size` can be: a larger request gets nginx's 413 page (not the
    service's JSON); the others are passed on to the service and its answer back."""

    def __init__(self, upstream: str, *, max_bytes: int) -> None:
        proxy = self
        self.sizes: list[int] = []  # the body size of every request that reached it
        self.refused = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self._relay()

            def do_PUT(self) -> None:
                self._relay()

            def do_GET(self) -> None:
                self._relay()

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.sizes.append(len(body))
                if len(body) > max_bytes:
                    proxy.refused += 1
                    self._answer(413, "text/html", NGINX_413)
                    return
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() in ("authorization", "content-type")
                }
                answer = httpx.request(
                    self.command, upstream + self.path, headers=headers, content=body, timeout=10
                )
                self._answer(
                    answer.status_code,
                    answer.headers.get("content-type", "application/json"),
                    answer.content,
                )

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BodyLimitProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
