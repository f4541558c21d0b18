"""A loopback TCP proxy that can lose the service's answers: the request reaches the service
and is applied, but the client sees the connection close without an answer, the way a
network failure after the service's commit looks to it."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class AnswerLosingProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._to_lose = 0
        self.lost = 0
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
