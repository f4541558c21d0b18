"""Proxies in front of the service under test.

`AnswerLosingProxy`, a loopback TCP proxy, can lose the service's answers: the request
reaches the service and is applied, but the client sees the connection close without an
answer, the way a network failure after the service's commit looks to it. It counts the
connections it accepts. `BodyLimitProxy` is an HTTP proxy with a smaller body limit."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from types import TracebackType

import httpx


class AnswerLosingProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._to_lose = 0
        self.lost = 0
        self.connections = 0  # accepted from the client: 0 means nothing was sent
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lose_answers(self, count: int) -> None:
        """The next `count` answers of the service are swallowed and their connections closed."""
        with self._lock:
            self._to_lose = count

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            upstream = socket.create_connection(self._upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._answers, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            _close(source, target)

    def _answers(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while data := upstream.recv(65536):
                with self._lock:
                    lose = self._to_lose > 0
                    if lose:
                        self._to_lose -= 1
                        self.lost += 1
                if lose:  # the service has answered, so it has applied the request
                    return
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream, client)

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def __enter__(self) -> AnswerLosingProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


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
