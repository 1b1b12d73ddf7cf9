"""Reaching a server within one time budget: name lookup, TCP connect, cancellation.

``socket.create_connection`` applies its timeout to each resolved address in
turn, and ``getaddrinfo`` cannot be interrupted at all, so a name with
several dead addresses, or a stalled resolver, would take many times the
configured timeout. Here the lookup runs in a worker thread that is
abandoned when the budget ends, and the addresses are tried in parallel,
staggered as in RFC 8305 (Happy Eyeballs), all within the same deadline.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable

from .errors import ConnectFailure, DeliveryCancelled, Step, seconds_text

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[tuple]]

# RFC 8305 section 5: wait 250 ms for one address before also trying the next.
CONNECTION_ATTEMPT_DELAY_S = 0.25
# How often a wait checks for cancellation when nothing else wakes it.
POLL_INTERVAL_S = 0.05

_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY}


class CancelToken:
    """Thread-safe cancellation shared by one delivery; cancel() shuts down the active socket.

    A flag alone cannot interrupt a blocked ``recv``, so the socket in use is
    registered here and ``cancel()`` shuts it down, which makes the blocked
    call return at once. Waits that have no socket (the name lookup, a
    connect in progress) poll ``cancelled``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._sockets: set[socket.socket] = set()

    def cancel(self) -> None:
        """Cancel the delivery and shut down every registered socket."""
        with self._lock:
            self._cancelled = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    @property
    def cancelled(self) -> bool:
        """True once ``cancel()`` was called."""
        return self._cancelled

    def register(self, sock: socket.socket) -> None:
        """Shut ``sock`` down on cancellation; at once when already cancelled."""
        with self._lock:
            self._sockets.add(sock)
            cancelled = self._cancelled
        if cancelled:
            _shutdown(sock)

    def unregister(self, sock: socket.socket) -> None:
        """Stop watching ``sock``."""
        with self._lock:
            self._sockets.discard(sock)


def _shutdown(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: the latter drops the
    # TLS object that a reading thread may still be using.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class Deadline:
    """A point in time, ``seconds`` from now, on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never below zero."""
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        """True when no time is left."""
        return self.remaining() <= 0.0


def default_resolver(host: str, port: int) -> list[tuple]:
    """Resolve like ``socket.getaddrinfo``, TCP addresses only."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def is_ip_literal(host: str) -> bool:
    """True for an IPv4 or IPv6 address (an IPv6 zone such as ``%eth0`` allowed)."""
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True


def cancelled_error(step: Step, server: str | None) -> DeliveryCancelled:
    """Return the error that ends a cancelled delivery at ``step``."""
    return DeliveryCancelled(step, "cancelled by the user", server=server)


def _lookup_in_thread(
    lookup: Resolver, host: str, port: int, deadline: Deadline, cancel: CancelToken
) -> dict[str, object] | None:
    """Run ``lookup`` in a daemon thread; return its outcome, or ``None`` on timeout or cancel.

    The outcome maps "addresses" to the result or "error" to the exception.
    """
    outcome: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["addresses"] = lookup(host, port)
        except BaseException as error:  # handed to the waiting thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=work, name=f"alertmail-resolve-{host}", daemon=True).start()
    while not done.wait(min(POLL_INTERVAL_S, deadline.remaining())):
        if cancel.cancelled or deadline.expired:
            return None
    if cancel.cancelled:
        return None
    return outcome


def resolve(
    host: str,
    port: int,
    *,
    deadline: Deadline,
    resolver: Resolver | None,
    cancel: CancelToken,
    server: str | None,
    step: Step = Step.RESOLVE,
    role: str = "",
) -> list[tuple]:
    """Return the addresses of ``host`` as ``getaddrinfo`` tuples, within ``deadline``.

    An IP address is converted without any DNS lookup. A name is looked up
    by ``resolver`` in a daemon thread. When the deadline passes or the
    delivery is cancelled, that thread is left to finish on its own.
    ``role`` names the server in messages ("POP " gives "the POP host name").
    """
    if is_ip_literal(host):
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)

    outcome = _lookup_in_thread(resolver or default_resolver, host, port, deadline, cancel)
    if outcome is None:
        if cancel.cancelled:
            raise cancelled_error(step, server)
        raise ConnectFailure(
            step,
            f"the {role}host name {host} could not be resolved within "
            f"{seconds_text(deadline.seconds)}: the name lookup did not finish",
            server=server,
        )

    error = outcome.get("error")
    if isinstance(error, socket.gaierror):
        reason = error.strerror or str(error)
        raise ConnectFailure(
            step,
            f"the {role}host name {host} could not be resolved ({reason}); "
            "check the spelling of the server name",
            server=server,
        )
    if isinstance(error, BaseException):
        raise ConnectFailure(
            step,
            f"the {role}host name {host} could not be resolved ({type(error).__name__}: {error})",
            server=server,
        )
    addresses = list(outcome.get("addresses") or [])
    if not addresses:
        raise ConnectFailure(
            step, f"the {role}host name {host} resolved to no address", server=server
        )
    return addresses


def _address_text(sockaddr: tuple) -> str:
    return str(sockaddr[0])


def peer_address(sock: socket.socket) -> str:
    """Return the IP address ``sock`` is connected to, or "unknown" once the peer reset it."""
    try:
        return str(sock.getpeername()[0])
    except OSError:
        return "unknown"


class _Attempts:
    """Connection attempts in flight, one non-blocking socket per address."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.pending: dict[socket.socket, tuple] = {}
        self.failures: list[tuple[tuple, OSError]] = []

    def start(self, info: tuple) -> socket.socket | None:
        """Start connecting to one address; return the socket if it connected at once."""
        family, _, proto, _, sockaddr = info
        try:
            sock = socket.socket(family, socket.SOCK_STREAM, proto)
        except OSError as error:
            self.failures.append((sockaddr, error))
            return None
        sock.setblocking(False)
        code = sock.connect_ex(sockaddr)
        if code == 0:
            return sock
        if code in _IN_PROGRESS:
            self.pending[sock] = sockaddr
            self.selector.register(sock, selectors.EVENT_WRITE)
            return None
        sock.close()
        self.failures.append((sockaddr, OSError(code, _strerror(code))))
        return None

    def wait(self, timeout: float) -> tuple[socket.socket | None, bool]:
        """Wait up to ``timeout``; return a connected socket, and whether any attempt failed."""
        failed = False
        for key, _ in self.selector.select(timeout):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self.selector.unregister(sock)
            sockaddr = self.pending.pop(sock)
            if code == 0:
                return sock, failed
            sock.close()
            self.failures.append((sockaddr, OSError(code, _strerror(code))))
            failed = True
        return None, failed

    def close(self) -> None:
        for sock in self.pending:
            sock.close()
        self.pending.clear()
        self.selector.close()


def _strerror(code: int) -> str:
    try:
        return os.strerror(code)
    except ValueError:
        return f"error {code}"


def open_connection(
    addresses: list[tuple],
    *,
    deadline: Deadline,
    cancel: CancelToken,
    server: str | None,
    host: str,
    port: int,
    step: Step = Step.CONNECT,
) -> socket.socket:
    """Return a connected blocking socket to one of ``addresses``, within ``deadline``.

    A new attempt starts every 250 ms, or at once when one fails, while
    earlier ones stay in flight. The first to connect wins, and the others
    are closed.
    """
    attempts = _Attempts()
    queue = list(addresses)
    next_start = time.monotonic()
    try:
        while True:
            if cancel.cancelled:
                raise cancelled_error(step, server)
            now = time.monotonic()
            if deadline.expired:
                break
            if queue and (now >= next_start or not attempts.pending):
                failed_before = len(attempts.failures)
                sock = attempts.start(queue.pop(0))
                if sock is not None:
                    sock.setblocking(True)
                    return sock
                # An attempt that failed at once leaves no reason to wait.
                if len(attempts.failures) == failed_before:
                    next_start = now + CONNECTION_ATTEMPT_DELAY_S
                continue
            if not attempts.pending:
                break
            wake = deadline.end
            if queue:
                wake = min(wake, next_start)
            timeout = max(0.0, min(wake - now, POLL_INTERVAL_S))
            sock, failed = attempts.wait(timeout)
            if sock is not None:
                sock.setblocking(True)
                return sock
            if failed:
                next_start = time.monotonic()
    finally:
        attempts.close()
    raise _connect_failure(attempts.failures, deadline, server, host, port, step, len(addresses))


def _connect_failure(
    failures: list[tuple[tuple, OSError]],
    deadline: Deadline,
    server: str | None,
    host: str,
    port: int,
    step: Step,
    count: int,
) -> ConnectFailure:
    """Describe why no address of ``host`` could be reached."""
    tried = f"{count} addresses" if count > 1 else "its address"
    if len(failures) < count:
        detail = (
            f"no connection to {host} port {port} within {seconds_text(deadline.seconds)} "
            f"(tried {tried}); the server may be down, or a firewall drops the traffic"
        )
    elif all(isinstance(error, ConnectionRefusedError) or error.errno == errno.ECONNREFUSED
             for _, error in failures):
        detail = (
            f"the connection to {host} port {port} was refused: no server listens on that "
            "port, or a firewall rejects it; check the SMTP Port field"
        )
    else:
        reasons = "; ".join(
            f"{_address_text(sockaddr)}: {error.strerror or error}" for sockaddr, error in failures
        )
        detail = f"no connection to {host} port {port} ({reasons})"
    return ConnectFailure(step, detail, server=server)
