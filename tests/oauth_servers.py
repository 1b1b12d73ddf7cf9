"""OAuth 2.0 test servers on loopback, as a pytest plugin (loaded by tests/conftest.py).

Fixtures:

- ``token_endpoint``: a factory that starts an HTTPS token endpoint with the
  trusted certificate of ``server_tls``. It implements the client-credentials
  grant and the JWT-bearer grant (RFC 7523), issues opaque tokens with a
  chosen ``expires_in``, can refuse a client secret with Microsoft's JSON
  error, and records every request.
- ``service_account``: a factory for a Google-style service-account key
  made with ``cryptography``, whose public key the endpoint verifies.
- ``xoauth2_smtp_server``: a factory that starts aiosmtpd servers that
  accept XOAUTH2 with a token the endpoint issued.

Every server listens on a free port picked at run time and is stopped at
the end of the test that started it.
"""

from __future__ import annotations

import base64
import dataclasses
import http.server
import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from smtp_servers import SERVER_NAME, RecordingHandler, free_port

# An app registration that the tests register on their token endpoints.
CLIENT_ID = "8f0b2c1e-3d4a-4b5c-9d6e-7f8091a2b3c4"
TENANT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CLIENT_SECRET = "Q~client-secret-value-0123456789"
MAILBOX = "alerts@example.com"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MICROSOFT_BAD_SECRET = {
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
    "sent in the request is the client secret value, not the client secret ID.",
}
GOOGLE_NO_DELEGATION = {
    "error": "unauthorized_client",
    "error_description": "Client is unauthorized to retrieve access tokens using this method, or "
    "client not authorized for any of the scopes requested.",
}
# Google's XOAUTH2 error challenge, sent base64-encoded after "334 ".
GOOGLE_SMTP_ERROR = {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}


class FakeClock:
    """A monotonic clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclasses.dataclass
class ServiceAccount:
    """A service-account key pair; ``key_json`` is the key file's text, as Google issues it."""

    client_email: str
    private_key_id: str
    private_key: rsa.RSAPrivateKey
    token_uri: str

    @property
    def key_json(self) -> str:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "alertmail-test",
                "private_key_id": self.private_key_id,
                "private_key": pem,
                "client_email": self.client_email,
                "client_id": "100000000000000000001",
                "token_uri": self.token_uri,
            }
        )


@dataclasses.dataclass
class TokenRequest:
    """One request the endpoint received: its form, headers, JWT claims and the status it got."""

    grant_type: str
    form: dict[str, str]
    authorization: str
    claims: dict
    status: int = 0


@dataclasses.dataclass
class Client:
    """A registered client: its secret and the scope it may request."""

    secret: str
    scope: str


class TokenEndpoint:
    """An HTTPS OAuth 2.0 token endpoint on 127.0.0.1.

    Register clients with ``add_client`` and service accounts with
    ``add_service_account`` (``delegated`` lists the mailboxes the account
    may impersonate; others get Google's ``unauthorized_client``). With
    ``refuse_secret`` every client-credentials request gets Microsoft's
    AADSTS7000215 error (401); with ``silent`` no request gets a response, and
    with ``hang_up`` the connection closes without one. ``expires_in`` is the lifetime of issued
    tokens. ``requests`` records every request; ``issued`` maps each token
    to the mailbox or client it was issued for.
    """

    def __init__(self, context: ssl.SSLContext, path: str = "/oauth2/v2.0/token") -> None:
        self.path = path
        self.expires_in = 3600
        self.refuse_secret = False
        self.silent = False
        self.hang_up = False
        self._release = threading.Event()
        self.clients: dict[str, Client] = {}
        self.accounts: dict[str, tuple[ServiceAccount, set[str]]] = {}
        self.requests: list[TokenRequest] = []
        self.issued: dict[str, str] = {}
        self._lock = threading.Lock()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5

            def do_POST(self) -> None:
                endpoint.handle(self)

            def log_message(self, format: str, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}{self.path}"

    def start(self) -> TokenEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_client(self, client_id: str, secret: str, scope: str) -> None:
        self.clients[client_id] = Client(secret, scope)

    def add_service_account(self, account: ServiceAccount, delegated: set[str]) -> None:
        self.accounts[account.client_email] = (account, set(delegated))

    def is_issued(self, token: str) -> str | None:
        """Return the mailbox or client a token was issued for, or ``None``."""
        with self._lock:
            return self.issued.get(token)

    # --- request handling --------------------------------------------------------

    def handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length).decode("utf-8")
        form = {key: values[0] for key, values in parse_qs(body).items()}

        record = TokenRequest(
            grant_type=form.get("grant_type", ""),
            form=form,
            authorization=handler.headers.get("Authorization", ""),
            claims={},
        )
        with self._lock:
            self.requests.append(record)
        if self.hang_up:
            # Close the connection without a status line, as a crashing proxy would.
            handler.close_connection = True
            return
        if self.silent:
            # Send nothing until the endpoint stops (10 s at most), so the
            # client's timeout has to end its wait first.
            self._release.wait(10)
            return

        if handler.path != self.path:
            status, answer = 404, {"error": "not_found"}
        elif record.grant_type == "client_credentials":
            status, answer = self._client_credentials(record)
        elif record.grant_type == JWT_BEARER:
            status, answer = self._jwt_bearer(record)
        else:
            status, answer = 400, {"error": "unsupported_grant_type"}

        record.status = status
        payload = json.dumps(answer).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _issue(self, owner: str) -> tuple[int, dict]:
        token = "tok-" + secrets.token_urlsafe(24)
        with self._lock:
            self.issued[token] = owner
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}

    def _client_credentials(self, record: TokenRequest) -> tuple[int, dict]:
        client_id, secret = record.form.get("client_id", ""), record.form.get("client_secret", "")
        if record.authorization.startswith("Basic "):
            decoded = base64.b64decode(record.authorization[6:]).decode("utf-8")
            client_id, _, secret = decoded.partition(":")
        client = self.clients.get(client_id)
        if client is None:
            return 400, {
                "error": "unauthorized_client",
                "error_description": f"AADSTS700016: Application with identifier '{client_id}' "
                "was not found in the directory.",
            }
        if self.refuse_secret or secret != client.secret:
            return 401, MICROSOFT_BAD_SECRET
        if record.form.get("scope") != client.scope:
            return 400, {"error": "invalid_scope", "error_description": "scope not granted"}
        return self._issue(client_id)

    def _jwt_bearer(self, record: TokenRequest) -> tuple[int, dict]:
        assertion = record.form.get("assertion", "")
        try:
            header_part, claims_part, signature_part = assertion.split(".")
            header = json.loads(_b64url_decode(header_part))
            claims = json.loads(_b64url_decode(claims_part))
        except ValueError:
            return 400, {"error": "invalid_grant", "error_description": "malformed assertion"}
        record.claims = claims
        entry = self.accounts.get(claims.get("iss", ""))
        if entry is None or header.get("alg") != "RS256":
            return 400, {"error": "invalid_grant", "error_description": "unknown issuer or algorithm"}
        account, delegated = entry
        try:
            account.private_key.public_key().verify(
                _b64url_decode(signature_part),
                f"{header_part}.{claims_part}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        now = time.time()
        if claims.get("aud") != self.url:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT audience."}
        if not (now - 5 < claims.get("exp", 0) <= now + 3605) or claims.get("iat", 0) > now + 5:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT: expired or not yet valid."}
        if claims.get("scope") != "https://mail.google.com/" or claims.get("sub") not in delegated:
            return 401, GOOGLE_NO_DELEGATION
        return self._issue(claims["sub"])


@pytest.fixture
def token_endpoint(server_tls) -> Iterator[Callable[..., TokenEndpoint]]:
    """Start HTTPS token endpoints; returns ``start(path="/oauth2/v2.0/token")``."""
    started: list[TokenEndpoint] = []

    def start(path: str = "/oauth2/v2.0/token") -> TokenEndpoint:
        endpoint = TokenEndpoint(server_tls.trusted, path).start()
        started.append(endpoint)
        return endpoint

    yield start
    for endpoint in started:
        endpoint.stop()


@pytest.fixture(scope="session")
def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account(_rsa_key) -> Callable[[str], ServiceAccount]:
    """Return ``make(token_uri)``: a service account whose key signs with a test RSA key."""

    def make(token_uri: str) -> ServiceAccount:
        return ServiceAccount(
            client_email="alertmail@alertmail-test.iam.gserviceaccount.com",
            private_key_id="0123456789abcdef",
            private_key=_rsa_key,
            token_uri=token_uri,
        )

    return make


# --- SMTP with XOAUTH2 ------------------------------------------------------------------


class _XOAuth2Smtp(SMTP):
    """aiosmtpd's SMTP with an XOAUTH2 mechanism that checks tokens with the owner."""

    def __init__(self, handler, *, owner: XOAuth2SmtpServer, **kwargs) -> None:
        self._owner = owner
        super().__init__(handler, **kwargs)

    async def auth_XOAUTH2(self, server, args: list[str]) -> AuthResult:
        raw = args[1] if len(args) > 1 else ""
        try:
            decoded = base64.b64decode(raw, validate=True).decode("utf-8")
        except ValueError:
            return AuthResult(success=False, handled=False, message="501 5.5.2 cannot decode response")
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
        user = fields.get("user", "")
        token = fields.get("auth", "").removeprefix("Bearer ")
        owner = self._owner
        success = owner.accepts(user, token)
        over_tls = self._tls_protocol is not None or self.transport.get_extra_info("sslcontext") is not None
        owner.auth_attempts.append((user, token, success, over_tls))
        if success:
            return AuthResult(success=True, handled=False, auth_data=user)
        response = await self.challenge_auth(json.dumps(GOOGLE_SMTP_ERROR))
        owner.challenge_responses.append(response)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")


class _Controller(Controller):
    def __init__(self, handler, *, owner: XOAuth2SmtpServer, **kwargs) -> None:
        self._owner = owner
        super().__init__(handler, **kwargs)

    def factory(self):
        return _XOAuth2Smtp(self.handler, owner=self._owner, **self.SMTP_kwargs)


class XOAuth2SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that accepts XOAUTH2 with a token ``endpoint`` issued.

    ``starttls`` or ``implicit_tls`` take a server ``ssl.SSLContext``. AUTH
    (XOAUTH2 only) is offered after TLS unless ``auth_require_tls`` is
    False. ``auth_attempts`` lists ``(user, token, success, over_tls)``
    and ``challenge_responses`` the client's responses to the error challenge.
    """

    def __init__(
        self,
        endpoint: TokenEndpoint,
        *,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        auth_require_tls: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self.handler = RecordingHandler({}, False, "250 2.0.0 queued")
        self.auth_attempts: list[tuple[str, str, bool, bool]] = []
        self.challenge_responses: list[bytes] = []
        options: dict = {
            "hostname": self.host,
            "port": self.port,
            "server_hostname": SERVER_NAME,
            "decode_data": False,
            "ssl_context": implicit_tls,
            "ready_timeout": 5.0,
            # aiosmtpd counts only STARTTLS as TLS for auth_require_tls, so an
            # implicit TLS server offers AUTH from the start (it is encrypted).
            "auth_require_tls": auth_require_tls and implicit_tls is None,
            "auth_exclude_mechanism": ["PLAIN", "LOGIN"],
        }
        if starttls is not None:
            options["tls_context"] = starttls
        self._controller = _Controller(self.handler, owner=self, **options)

    @property
    def received(self):
        return self.handler.received

    def accepts(self, user: str, token: str) -> bool:
        owner = self.endpoint.is_issued(token)
        return owner is not None and owner in (user, *self.endpoint.clients)

    def start(self) -> XOAuth2SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture
def xoauth2_smtp_server(server_tls) -> Iterator[Callable[..., XOAuth2SmtpServer]]:
    """Start XOAUTH2 SMTP servers; returns ``start(endpoint, starttls=True, implicit_tls=False,
    auth_require_tls=True)``."""
    started: list[XOAuth2SmtpServer] = []

    def start(
        endpoint: TokenEndpoint, *, starttls: bool = True, implicit_tls: bool = False,
        auth_require_tls: bool = True,
    ) -> XOAuth2SmtpServer:
        server = XOAuth2SmtpServer(
            endpoint,
            starttls=server_tls.trusted if starttls else None,
            implicit_tls=server_tls.trusted if implicit_tls else None,
            auth_require_tls=auth_require_tls,
        ).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
