"""Test servers on loopback, as a pytest plugin (loaded by tests/conftest.py).

Fixtures:

- ``test_ca``, ``server_cert``, ``ssl_context``, ``ca_bundle``: a test
  certificate authority, a server certificate for localhost, 127.0.0.1 and
  ::1, a client context trusting the authority, and its PEM file.
- ``server_tls``: server-side TLS contexts with a trusted, a self-signed,
  an unknown-authority or a wrong-host certificate.
- ``smtp_server``: a factory that starts aiosmtpd servers.
- ``fault_smtp_server``: a factory that starts scripted raw SMTP servers.
- ``pop3_server``: a factory that starts POP3 servers.
- ``dead_addresses``: loopback addresses whose listeners drop every new SYN.
- ``blocking_resolver``: a resolver that blocks until the test ends.

Every server listens on a free port picked at run time and is stopped at
the end of the test that started it.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from pop3_server import Pop3Server
from smtp_servers import FAULTS, FaultScript, FaultSmtpServer, SmtpServer, free_port

__all__ = ["FAULTS", "FaultScript", "free_port"]

LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"]


# --- TLS ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    """A certificate authority that only the ``ssl_context`` fixture trusts."""
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(test_ca: trustme.CA) -> trustme.LeafCert:
    """A server certificate from ``test_ca`` for localhost, 127.0.0.1 and ::1."""
    return test_ca.issue_cert(*LOOPBACK_NAMES)


@pytest.fixture
def ssl_context(test_ca: trustme.CA) -> ssl.SSLContext:
    """A verifying client context (truststore, as the product's) that also trusts ``test_ca``."""
    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    test_ca.configure_trust(context)
    return context


@pytest.fixture
def ca_bundle(test_ca: trustme.CA, tmp_path: Path) -> Path:
    """``test_ca``'s certificate as a PEM file, for ``SSL_CERT_FILE`` in a child process."""
    path = tmp_path / "test-ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(configure: Callable[[ssl.SSLContext], None]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    configure(context)
    return context


@dataclasses.dataclass
class ServerTls:
    """Server-side TLS contexts, one per kind of certificate."""

    trusted: ssl.SSLContext
    self_signed: ssl.SSLContext
    unknown_authority: ssl.SSLContext
    wrong_host: ssl.SSLContext


@pytest.fixture(scope="session")
def server_tls(test_ca: trustme.CA, server_cert: trustme.LeafCert) -> ServerTls:
    """Server contexts: ``trusted`` (from ``test_ca``), ``self_signed`` (a certificate that is
    its own issuer), ``unknown_authority`` (from an authority no context trusts) and
    ``wrong_host`` (from ``test_ca`` but for other.example.net)."""
    stranger = trustme.CA()

    def self_signed(context: ssl.SSLContext) -> None:
        # A root certificate is signed by its own key: presented as the
        # server's, it verifies as "self-signed certificate".
        with stranger.cert_pem.tempfile() as cert, stranger.private_key_pem.tempfile() as key:
            context.load_cert_chain(cert, key)

    return ServerTls(
        trusted=_server_context(server_cert.configure_cert),
        self_signed=_server_context(self_signed),
        unknown_authority=_server_context(stranger.issue_cert(*LOOPBACK_NAMES).configure_cert),
        wrong_host=_server_context(test_ca.issue_cert("other.example.net").configure_cert),
    )


# --- SMTP --------------------------------------------------------------------------


@pytest.fixture
def smtp_server(server_tls: ServerTls) -> Iterator[Callable[..., SmtpServer]]:
    """Start aiosmtpd servers; returns ``start(**options) -> SmtpServer``.

    Options: ``host`` ("127.0.0.1" or "::1"); ``users`` ({user: password},
    enables AUTH PLAIN and LOGIN, checked on the exact UTF-8 decoded
    strings); ``auth_require_tls`` (offer AUTH only after STARTTLS);
    ``auth_exclude`` (mechanisms not to offer, such as ("PLAIN",));
    ``starttls`` and ``implicit_tls`` (False, True for the trusted
    certificate, or a ``ServerTls`` attribute name such as "self_signed");
    ``smtputf8``; ``refuse`` ({address: reply} for RCPT); ``strict_crlf``
    (refuse data containing a bare LF); ``data_reply``. The server records
    ``received`` messages and counts ``connections``.
    """
    started: list[SmtpServer] = []

    def context(choice: bool | str) -> ssl.SSLContext | None:
        if not choice:
            return None
        return getattr(server_tls, "trusted" if choice is True else choice)

    def start(*, starttls: bool | str = False, implicit_tls: bool | str = False, **options) -> SmtpServer:
        server = SmtpServer(
            starttls_context=context(starttls), implicit_tls_context=context(implicit_tls), **options
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fault_smtp_server() -> Iterator[Callable[..., FaultSmtpServer]]:
    """Start scripted raw SMTP servers; returns ``start(script, host="127.0.0.1")``.

    ``script`` is a ``FaultScript`` or a name from ``FAULTS``: "no_greeting",
    "greeting_421", "greeting_554", "ehlo_502" (HELO accepted), "ehlo_421", "mail_451", "rcpt_451",
    "rcpt_421", "rcpt_550_one" (550 for gone@example.com), "data_554",
    "data_451", "drop_after_data" (354, then closes after the data),
    "silent_after_data", "close_after_accept" (250, then closes without
    answering QUIT) and "ok".
    """
    started: list[FaultSmtpServer] = []

    def start(script: FaultScript | str, host: str = "127.0.0.1") -> FaultSmtpServer:
        server = FaultSmtpServer(script, host).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# --- POP3 --------------------------------------------------------------------------


@pytest.fixture
def pop3_server() -> Iterator[Callable[..., Pop3Server]]:
    """Start POP3 servers; returns ``start(mode="ok", users=None, host="127.0.0.1")``.

    Modes: "ok" (logs in the given users), "silent" (accepts TCP, never
    greets), "reject" (replies to PASS with "-ERR Logon failure: unknown user
    name or bad password"). ``events`` and ``time_of()`` show the order.
    """
    started: list[Pop3Server] = []

    def start(mode: str = "ok", users: dict[str, str] | None = None, host: str = "127.0.0.1") -> Pop3Server:
        server = Pop3Server(mode, users, host).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# --- unreachable addresses and slow resolvers ----------------------------------------


def _fill_backlog(address: str, port: int, held: list[socket.socket]) -> socket.socket:
    """Listen on ``address`` with a full accept queue, so the kernel drops new SYNs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(0)
    for _ in range(8):
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setblocking(False)
        client.connect_ex((address, port))
        held.append(client)
        _, writable, _ = select.select([], [client], [], 0.3)
        if not writable:
            return listener
    raise RuntimeError(f"the accept queue of {address} port {port} never filled")


@pytest.fixture
def dead_addresses() -> Iterator[Callable[..., tuple[list[str], int]]]:
    """Make loopback addresses 127.0.0.2 and up unreachable; returns ``make(count, port=None)``.

    ``make`` returns ``(addresses, port)``: each address has a listener on
    ``port`` (a free one when not given) whose accept queue (``listen(0)``)
    is full, so on Linux a further connect hangs until its timeout, like a
    host that drops SYNs. The fixture checks that a probe connect really hangs.
    """
    held: list[socket.socket] = []

    def make(count: int, port: int | None = None) -> tuple[list[str], int]:
        addresses = [f"127.0.0.{index}" for index in range(2, 2 + count)]
        port = port or free_port(addresses[0])
        for address in addresses:
            held.append(_fill_backlog(address, port, held))
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.settimeout(0.3)
            try:
                probe.connect((address, port))
            except TimeoutError:
                pass
            else:
                raise RuntimeError(f"a connect to the full queue of {address} did not hang")
            finally:
                probe.close()
        return addresses, port

    yield make
    for sock in held:
        sock.close()


@dataclasses.dataclass
class BlockingResolver:
    """A resolver that blocks up to 120 s, until ``release()``; ``calls`` counts lookups."""

    released: threading.Event = dataclasses.field(default_factory=threading.Event)
    threads: list[threading.Thread] = dataclasses.field(default_factory=list)
    calls: int = 0

    def __call__(self, host: str, port: int) -> list[tuple]:
        self.calls += 1
        self.threads.append(threading.current_thread())
        self.released.wait(120)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    def release(self) -> None:
        self.released.set()
        for thread in self.threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)


@pytest.fixture
def blocking_resolver() -> Iterator[BlockingResolver]:
    """A resolver that blocks until the test ends; the threads that called it are waited for."""
    resolver = BlockingResolver()
    yield resolver
    resolver.release()


def loopback_resolver(addresses: list[str]) -> Callable[[str, int], list[tuple]]:
    """Return a resolver that maps any name to ``addresses`` (IPv4), in order."""

    def resolve(host: str, port: int) -> list[tuple]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
            for address in addresses
        ]

    return resolve


def failing_resolver(host: str, port: int) -> list[tuple]:
    """A resolver for which no name exists, as for ``no-such-host.invalid``."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
