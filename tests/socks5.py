"""A small SOCKS5 proxy for the tests (RFC 1928, username/password auth of RFC 1929).

It listens on 127.0.0.1, accepts only the CONNECT command and relays bytes both ways; it
remembers every target it connected to, and every failed login.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from dataclasses import dataclass, field

_NO_AUTH, _USER_PASS, _NO_METHOD = 0x00, 0x02, 0xFF


@dataclass
class Socks5Proxy:
    """A SOCKS5 proxy requiring `username`/`password` (or nothing when both are empty)."""

    username: str = ""
    password: str = ""
    connects: list[tuple[str, int]] = field(default_factory=list)
    refused_logins: list[str] = field(default_factory=list)
    _listener: socket.socket | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._listener is not None
        port: int = self._listener.getsockname()[1]
        return port

    def start(self) -> Socks5Proxy:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, name="socks5", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._listener is not None:
            # Closing alone does not wake a thread blocked in accept(); shutting down does.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        if self._thread is not None:
            self._thread.join(5)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            try:
                if not self._greet(client):
                    return
                target = self._connect(client)
            except (OSError, ValueError):
                return
            with target:
                _relay(client, target)

    def _greet(self, client: socket.socket) -> bool:
        version, count = _read(client, 2)
        if version != 5:
            raise ValueError("not SOCKS5")
        methods = _read(client, count)
        wanted = _USER_PASS if self.username else _NO_AUTH
        if wanted not in methods:
            client.sendall(bytes([5, _NO_METHOD]))
            return False
        client.sendall(bytes([5, wanted]))
        return wanted == _NO_AUTH or self._login(client)

    def _login(self, client: socket.socket) -> bool:
        _, length = _read(client, 2)
        user = _read(client, length).decode()
        (length,) = _read(client, 1)
        password = _read(client, length).decode()
        accepted = user == self.username and password == self.password
        if not accepted:
            self.refused_logins.append(user)
        client.sendall(bytes([1, 0 if accepted else 1]))
        return accepted

    def _connect(self, client: socket.socket) -> socket.socket:
        _, command, _, kind = _read(client, 4)
        if kind == 1:
            host = socket.inet_ntoa(_read(client, 4))
        elif kind == 3:
            (length,) = _read(client, 1)
            host = _read(client, length).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, _read(client, 16))
        (port,) = struct.unpack(">H", _read(client, 2))
        if command != 1:
            client.sendall(bytes([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]))
            raise ValueError("only CONNECT is supported")
        self.connects.append((host, port))
        try:
            target = socket.create_connection((host, port), timeout=5)
        except OSError:
            client.sendall(bytes([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]))
            raise
        client.sendall(bytes([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
        return target


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ValueError("connection closed during the handshake")
        data += chunk
    return data


def _relay(left: socket.socket, right: socket.socket) -> None:
    """Copy bytes both ways until one side closes."""
    peers = {left: right, right: left}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 30)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            peers[sock].sendall(data)
