"""Where a local server (``xlsdk view``) may listen, checked before anything binds.

viser, which serves the viewer, retries the next port on *any* bind error and reports errors from its
server thread: a port out of range, an address that is not this machine's, or an unresolvable host name
made it print a thread traceback and wait forever, and a busy port silently moved the page elsewhere.
So the address is validated here first, with one message that says what to change; a busy port is
refused (port 0 asks the system for any free port).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading

from xlsdk.errors import ListenAddressError

#: resolving a host name goes to DNS; never wait for it longer than this
RESOLVE_TIMEOUT_S = 5.0


def check_listen_address(host: str, port: int) -> str:
    """The IP address to bind for ``host``; raises :class:`ListenAddressError` if ``host:port`` cannot serve.

    ``port`` is 0..65535, 0 meaning any free port. ``host`` is an IP address of this machine (127.0.0.1,
    0.0.0.0 for every interface) or a name that resolves to one.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ListenAddressError(f"port {port!r} is not a TCP port: use 1..65535, or 0 for any free port")
    address = _resolve(host)
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError as exc:
            raise ListenAddressError(_bind_problem(host, address, port, exc)) from None
    return address


def _resolve(host: str) -> str:
    if not host or not host.strip():
        raise ListenAddressError("the host is empty: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(label and len(label) <= 63 and label.replace("-", "").isalnum()
                                  and not label.startswith("-") for label in labels):
        raise ListenAddressError(f"host {host!r} is neither an IP address nor a valid host name "
                                 "(letters, digits and '-' between dots); use e.g. 127.0.0.1")
    found: list[str] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            found.extend(str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6))
        except (OSError, UnicodeError) as exc:
            failure.append(exc)

    worker = threading.Thread(target=lookup, name="xlsdk-resolve", daemon=True)
    worker.start()
    worker.join(RESOLVE_TIMEOUT_S)
    if worker.is_alive():
        raise ListenAddressError(f"host {host!r} did not resolve within {RESOLVE_TIMEOUT_S:g} s; use an IP address")
    if failure or not found:
        raise ListenAddressError(f"host {host!r} does not resolve to an address; use an IP address of this machine "
                                 "(127.0.0.1, or 0.0.0.0 for every interface)")
    return found[0]


def _bind_problem(host: str, address: str, port: int, exc: OSError) -> str:
    where = host if host == address else f"{host} ({address})"
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {where} is already in use by another program; choose another port, "
                "or port 0 for any free one")
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"{where} is not an address of this machine, so nothing can listen there; use 127.0.0.1 "
                "(this machine only) or 0.0.0.0 (every interface)")
    if exc.errno == errno.EACCES:
        return f"port {port} on {where} needs administrator rights (ports below 1024); choose a port above 1023"
    return f"cannot listen on {where} port {port}: {exc.strerror or exc}"
