"""A TCP relay in front of a backend that a test can cut and restore, to inject outages.

Cutting it resets every open connection and refuses new ones, which is what a client sees of a
stopped server, while the backend behind it keeps its state. That matters for the in-memory
backends (a dev OpenBao, moto_server): stopping them would erase the writes a fault test must
read back afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from ._util import free_port

_CHUNK = 65536


class FaultProxy:
    """Relays 127.0.0.1:`port` to `upstream`; `cut()` makes it a dead address until `restore()`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        """Describe the relay; it listens after :meth:`start`."""
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()

    @property
    def address(self) -> str:
        """host:port callers connect to."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Accept connections (again) on :attr:`port`."""
        listener = socket.create_server(("127.0.0.1", self.port))
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def restore(self) -> None:
        """End an outage started by :meth:`cut`."""
        self.start()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._open = self._open, set()
        if listener is not None:
            _close(listener)
        for connection in connections:
            _close(connection)

    def stop(self) -> None:
        """Stop relaying for good (same as :meth:`cut`)."""
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if self._listener is None:  # cut while connecting
                _close(client)
                _close(upstream)
                return
            self._open.update((client, upstream))
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._open.difference_update((source, sink))
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    """Close with a reset (linger 0), waking any thread blocked on the socket."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
