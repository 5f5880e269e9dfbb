"""One loopback port for HTTP/1.1 and gRPC, as InfluxDB 3 serves writes and Flight queries on one host:port.

Each accepted connection is peeked at: one that opens with the HTTP/2 prior-knowledge preface
(``PRI * HTTP/2.0``, what gRPC sends over ``grpc+tcp``) is piped to the Flight server, every other one to
the HTTP server.
"""

from __future__ import annotations

import select
import socket
import threading


class PortFront:
    """A TCP front on *host*:*port* that pipes each connection to the HTTP or the Flight port."""

    def __init__(self, http_port: int, flight_port: int, host: str = "127.0.0.1", port: int = 0) -> None:
        self.http_port, self.flight_port = http_port, flight_port
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(64)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._stopped = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="influxdb-test-front", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting and close every piped connection."""
        self._stopped.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=5)
        with self._lock:
            pending = list(self._open)
        for conn in pending:
            _close(conn)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="influxdb-test-pipe", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        self._track(conn)
        upstream: socket.socket | None = None
        try:
            conn.settimeout(10)
            head = conn.recv(3, socket.MSG_PEEK | socket.MSG_WAITALL)
            if not head:
                return
            conn.settimeout(None)
            port = self.flight_port if head == b"PRI" else self.http_port
            upstream = socket.create_connection(("127.0.0.1", port))
            self._track(upstream)
            _pipe(conn, upstream, self._stopped)
        except OSError:
            return
        finally:
            for s in (conn, upstream):
                if s is not None:
                    self._untrack(s)
                    _close(s)

    def _track(self, s: socket.socket) -> None:
        with self._lock:
            self._open.add(s)

    def _untrack(self, s: socket.socket) -> None:
        with self._lock:
            self._open.discard(s)


def _pipe(a: socket.socket, b: socket.socket, stopped: threading.Event) -> None:
    """Copy bytes both ways until both sides have closed (a half-close is passed on)."""
    peers = {a: b, b: a}
    reading = [a, b]
    while reading and not stopped.is_set():
        readable, _, _ = select.select(reading, [], [], 0.5)
        for s in readable:
            data = s.recv(65536)
            if data:
                peers[s].sendall(data)
                continue
            reading.remove(s)
            try:
                peers[s].shutdown(socket.SHUT_WR)
            except OSError:
                pass


def _close(s: socket.socket) -> None:
    try:
        s.close()
    except OSError:
        pass
