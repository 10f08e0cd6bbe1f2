"""Real transports between a driver and a simulated device, with fault injection in between.

* :class:`PtyLink`: two pseudo-terminals joined by a copying thread. The simulated device opens one
  end, the driver opens the other exactly like a USB-serial adapter (``/dev/pts/N``).
* :class:`TcpLink`: a proxy on 127.0.0.1 in front of a device server on 127.0.0.1.

Both forward whatever chunks the two sides write, and a :class:`FaultPlan` can drop, corrupt or stall
them, or cut the connection, one direction at a time, so driver tests exercise real framing, real
checksums and real timeouts. Traffic stays on this machine (loopback, local PTYs).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["to_device", "to_driver"]


@dataclass
class FaultPlan:
    """Faults to inject, consumed chunk by chunk (thread-safe counters).

    ``late_after_s`` (off by default) makes the plan also count ``late`` replies: replies any chunk of
    which reaches the driver more than that long after the last chunk of the request. A driver whose
    reply timeout is that long retries such a request although no fault was injected (a loaded host
    scheduled the device late), and a reply's tail arriving after the driver gave up spoils the next
    reply too; soak tests can tell those retries from spurious ones.
    """

    drop: dict[str, int] = field(default_factory=lambda: {"to_device": 0, "to_driver": 0})
    corrupt: dict[str, int] = field(default_factory=lambda: {"to_device": 0, "to_driver": 0})
    stalled: bool = False
    dropped: int = 0
    corrupted: int = 0
    forwarded: int = 0
    late_after_s: float | None = None
    late: int = 0
    _request_at: float | None = None
    _late_counted: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def drop_next(self, count: int, direction: Direction = "to_driver") -> None:
        with self._lock:
            self.drop[direction] += count

    def corrupt_next(self, count: int, direction: Direction = "to_driver") -> None:
        with self._lock:
            self.corrupt[direction] += count

    def apply(self, direction: Direction, chunk: bytes) -> bytes | None:
        """The chunk to forward (possibly altered), or None to swallow it."""
        with self._lock:
            self._time(direction)
            if self.stalled:
                self.dropped += 1
                return None
            if self.drop[direction] > 0:
                self.drop[direction] -= 1
                self.dropped += 1
                return None
            if self.corrupt[direction] > 0 and chunk:
                self.corrupt[direction] -= 1
                self.corrupted += 1
                altered = bytearray(chunk)
                altered[len(altered) // 2] ^= 0x5A  # a flipped payload byte: the checksum no longer matches
                return bytes(altered)
            self.forwarded += 1
            return chunk

    def _time(self, direction: Direction) -> None:
        """Note when a request ends and whether its reply starts late (see ``late_after_s``)."""
        if self.late_after_s is None:
            return
        now = time.monotonic()
        if direction == "to_device":
            self._request_at, self._late_counted = now, False
        elif self._request_at is not None and not self._late_counted and now - self._request_at > self.late_after_s:
            self.late += 1
            self._late_counted = True  # one verdict per request: every chunk until the next belongs to its reply


class PtyLink:
    """Two PTYs bridged by a thread: ``device_port`` for the simulated device, ``driver_port`` for the driver."""

    def __init__(self, faults: FaultPlan | None = None) -> None:
        self.faults = faults or FaultPlan()
        self._device_master, device_slave = os.openpty()
        self._driver_master, driver_slave = os.openpty()
        for fd in (device_slave, driver_slave, self._device_master, self._driver_master):
            tty.setraw(fd)
        self.device_port = os.ttyname(device_slave)
        self.driver_port = os.ttyname(driver_slave)
        # keep the slave ends open so the masters never see EOF while a side reconnects
        self._slaves = (device_slave, driver_slave)
        self._stop = threading.Event()
        self._cut = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="xlsdk-pty-link", daemon=True)
        self._thread.start()

    def disconnect(self) -> None:
        """Cut the cable: nothing passes in either direction any more."""
        self._cut.set()

    def reconnect(self) -> None:
        self._cut.clear()

    def _pump(self) -> None:
        pairs = {self._device_master: (self._driver_master, "to_driver"),
                 self._driver_master: (self._device_master, "to_device")}
        while not self._stop.is_set():
            readable, _, _ = select.select(list(pairs), [], [], 0.05)
            for source in readable:
                try:
                    chunk = os.read(source, 4096)
                except OSError:
                    continue
                target, direction = pairs[source]
                if self._cut.is_set():
                    continue
                forwarded = self.faults.apply(direction, chunk)  # type: ignore[arg-type]
                if forwarded:
                    try:
                        os.write(target, forwarded)
                    except OSError:
                        pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        for fd in (self._device_master, self._driver_master, *self._slaves):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpLink:
    """A loopback TCP proxy in front of ``(host, port)``; connect drivers to ``address``."""

    def __init__(self, upstream: tuple[str, int], faults: FaultPlan | None = None) -> None:
        self.faults = faults or FaultPlan()
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.address = self._listener.getsockname()
        self._stop = threading.Event()
        self._cut = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="xlsdk-tcp-link", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://{self.address[0]}:{self.address[1]}"

    def disconnect(self) -> None:
        """Drop every open connection (the driver sees the peer vanish mid-command)."""
        self._cut.set()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._sockets.clear()

    def reconnect(self) -> None:
        self._cut.clear()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            if self._cut.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=1.0)
            except OSError:
                client.close()
                continue
            self._sockets += [client, server]
            for source, target, direction in ((client, server, "to_device"), (server, client, "to_driver")):
                threading.Thread(target=self._copy, args=(source, target, direction), daemon=True).start()

    def _copy(self, source: socket.socket, target: socket.socket, direction: Direction) -> None:
        source.settimeout(0.1)
        while not self._stop.is_set():
            try:
                chunk = source.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                try:
                    target.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            forwarded = self.faults.apply(direction, chunk)
            if forwarded:
                try:
                    target.sendall(forwarded)
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self.disconnect()
        self._listener.close()
        self._thread.join(timeout=2.0)
