"""A TCP proxy on 127.0.0.1 that a test can cut (refuse, then reset) and restore (a helper).

One thread owns every socket and multiplexes them with ``selectors``, so cutting is exact: the
listening socket is closed first (new connections are refused), then every live connection is
closed with ``SO_LINGER`` 0, which sends a TCP reset to the client. ``restore()`` listens on the
same port again.
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import struct
import threading
from typing import Final

_TICK_S: Final = 0.05
_CHUNK_BYTES: Final = 65_536
_SEND_TIMEOUT_S: Final = 10.0


class TcpProxy:
    """Forwards connections from ``127.0.0.1:port`` to ``target``; ``cut()`` and ``restore()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._selector = selectors.DefaultSelector()
        self._commands: queue.SimpleQueue[tuple[str, threading.Event]] = queue.SimpleQueue()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._stopped = False
        self.connections_reset = 0
        self._thread = threading.Thread(target=self._serve, name="test-tcp-proxy", daemon=True)
        self._thread.start()

    @property
    def host_and_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Refuse new connections, then reset every open one (returns when done)."""
        self._command("cut")

    def restore(self) -> None:
        """Accept connections again on the same port."""
        self._command("restore")

    def close(self) -> None:
        self._command("stop")
        self._thread.join(10)

    def _command(self, name: str) -> None:
        done = threading.Event()
        self._commands.put((name, done))
        if not done.wait(10):
            raise RuntimeError(f"the proxy did not carry out {name!r}")

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ)
        return listener

    def _serve(self) -> None:
        while not self._stopped:
            for key, _ in self._selector.select(_TICK_S):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept(sock)
                elif sock in self._peers:
                    self._forward(sock)
            self._run_commands()
        self._selector.close()

    def _run_commands(self) -> None:
        while True:
            try:
                name, done = self._commands.get_nowait()
            except queue.Empty:
                return
            if name in ("cut", "stop"):
                self._close_listener()
                self._reset_connections()
                self._stopped = name == "stop"
            elif name == "restore" and self._listener is None:
                self._listener = self._listen(self.port)
            done.set()

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None

    def _reset_connections(self) -> None:
        for sock in list(self._peers):
            if sock not in self._peers:
                continue  # closed with its peer already
            # Linger 0: close() sends RST instead of FIN, as a dropped network path would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._drop(sock)
            self.connections_reset += 1

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except BlockingIOError:
            return
        try:
            upstream = socket.create_connection(self._target, timeout=5)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.settimeout(_SEND_TIMEOUT_S)
            self._selector.register(sock, selectors.EVENT_READ)
        self._peers[client] = upstream
        self._peers[upstream] = client

    def _forward(self, sock: socket.socket) -> None:
        peer = self._peers[sock]
        try:
            data = sock.recv(_CHUNK_BYTES)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        peer = self._peers.pop(sock, None)
        for each in (sock, peer):
            if each is None:
                continue
            self._peers.pop(each, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(each)
            each.close()
