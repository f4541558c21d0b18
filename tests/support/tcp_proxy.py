"""A loopback TCP proxy in front of one upstream port (the service, or a redis-server),
for faults that happen between the two:

- `lose_answers(n)`: the next n answers of the upstream are swallowed and their
  connections closed. The request has reached the upstream and was applied, but the
  client sees the connection close without an answer, the way a network failure after
  the upstream's commit looks to it.
- `blackhole()`: connections stay open (and new ones are accepted) but nothing passes
  either way, the way a dead network path or a firewall that drops packets looks.
  Unlike a frozen server, the far end's kernel does not answer either. `restore()`
  lets traffic through again.

`connections` counts the connections accepted from clients: 0 means nothing was sent.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._to_lose = 0
        self.lost = 0
        self.connections = 0
        self._open = threading.Event()
        self._open.set()
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def lose_answers(self, count: int) -> None:
        """The next `count` answers of the upstream are swallowed, their connections closed."""
        with self._lock:
            self._to_lose = count

    def blackhole(self) -> None:
        """From now on nothing passes; connections are held open, not closed."""
        self._open.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closed = True
        self._open.set()
        self._listener.close()
        with self._lock:
            _close(*self._sockets)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._sockets.append(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self._open.wait()  # a connection made while black-holed never reaches upstream
        try:
            upstream = socket.create_connection(self._upstream)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._sockets.append(upstream)
        threading.Thread(target=self._answers, args=(upstream, client), daemon=True).start()
        self._requests(client, upstream)

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                self._open.wait()  # held here, unread and unanswered, while black-holed
                upstream.sendall(data)
        _close(client, upstream)

    def _answers(self, upstream: socket.socket, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                self._open.wait()
                with self._lock:
                    lose = self._to_lose > 0
                    if lose:
                        self._to_lose -= 1
                        self.lost += 1
                if lose:  # the upstream has answered, so it has applied the request
                    break
                client.sendall(data)
        _close(upstream, client)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
