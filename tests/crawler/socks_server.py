"""A real SOCKS5 proxy on 127.0.0.1 for the tests (RFC 1928 CONNECT, RFC 1929 login).

It resolves host names only from its own ``hosts`` table (as Tor resolves an onion
address no resolver of the crawler's knows), relays the stream both ways, and records
every stream it was asked for in ``streams``: (address type, host, port, user).
``mute`` makes it accept connections and never answer; ``reply`` forces a CONNECT reply
code (a Tor onion-service failure, say).
"""

from __future__ import annotations

import ipaddress
import select
import socket
import socketserver
import struct
import threading
from dataclasses import dataclass, field

ATYP_NAMES = {1: "ipv4", 3: "domain", 4: "ipv6"}


@dataclass
class SocksServer:
    username: str = ""
    password: str = ""
    hosts: dict[str, str] = field(default_factory=dict)  # name → address
    mute: bool = False
    reply: int = 0
    streams: list[tuple[str, str, int, str]] = field(default_factory=list)
    logins_refused: int = 0

    def __post_init__(self) -> None:
        proxy = self
        self._lock = threading.Lock()
        self._muted = threading.Event()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, scheme: str = "socks5h", user: str = "", password: str = "") -> str:
        login = f"{user}:{password}@" if user else ""
        return f"{scheme}://{login}127.0.0.1:{self.port}"

    def start(self) -> SocksServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._muted.set()
        self.server.shutdown()
        self.server.server_close()

    # ----------------------------------------------------------------- one client
    def _serve(self, client: socket.socket) -> None:
        client.settimeout(10)
        if self.mute:
            self._muted.wait(timeout=30)
            return
        try:
            user = self._negotiate(client)
            if user is None:
                return
            target = self._connect(client, user)
            if target is not None:
                _relay(client, target)
        except (OSError, ValueError):
            pass

    def _negotiate(self, client: socket.socket) -> str | None:
        version, n = _read(client, 2)
        methods = _read(client, n)
        if version != 5:
            return None
        wanted = 2 if self.username else 0
        if wanted not in methods:
            client.sendall(b"\x05\xff")
            return None
        client.sendall(bytes([5, wanted]))
        if not wanted:
            return ""
        _ver, ulen = _read(client, 2)
        user = _read(client, ulen).decode()
        (plen,) = _read(client, 1)
        password = _read(client, plen).decode()
        if (user, password) != (self.username, self.password):
            with self._lock:
                self.logins_refused += 1
            client.sendall(b"\x01\x01")
            return None
        client.sendall(b"\x01\x00")
        return user

    def _connect(self, client: socket.socket, user: str) -> socket.socket | None:
        _ver, cmd, _rsv, atyp = _read(client, 4)
        if atyp == 1:
            host = str(ipaddress.IPv4Address(_read(client, 4)))
        elif atyp == 4:
            host = str(ipaddress.IPv6Address(_read(client, 16)))
        else:
            (length,) = _read(client, 1)
            host = _read(client, length).decode()
        (port,) = struct.unpack("!H", _read(client, 2))
        with self._lock:
            self.streams.append((ATYP_NAMES.get(atyp, str(atyp)), host, port, user))
        address = self.hosts.get(host) if atyp == 3 else host
        code = self.reply or (7 if cmd != 1 else 4 if address is None else 0)
        target = None
        if not code:
            try:
                target = socket.create_connection((address, port), timeout=10)
            except OSError:
                code = 5
        client.sendall(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))
        return target


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ValueError("client went away")
        data += chunk
    return data


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    pair = {a: b, b: a}
    try:
        while True:
            ready, _, _ = select.select(list(pair), [], [], 30)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                pair[sock].sendall(data)
    finally:
        for sock in (a, b):
            sock.close()
