"""OAuth 2.0 access tokens for SMTP's XOAUTH2 login, cached in memory.

Library: Authlib (``authlib.integrations.requests_client``). One library
covers both grants alertmail needs: the client-credentials grant
(``OAuth2Session.fetch_token``) for Microsoft 365 and other providers, and
the JWT-bearer grant of RFC 7523 (``AssertionSession``) for Google
service accounts. Both run on a ``requests`` session, which takes a
per-request timeout and an ``ssl.SSLContext`` through its transport
adapter, so the token endpoint is verified with the same trust store as
SMTP and within the server's timeout. The alternative, ``msal`` plus
``google-auth``, needs two libraries with two HTTP stacks, and neither
serves a generic provider. ``msal`` also calls Microsoft's instance
discovery endpoint before it acquires a token (documented on Microsoft
Learn under "Custom authority aliases"): one more network request, which
a local test endpoint would have to serve as well.

Authlib and requests are imported only when a token is requested, so
``alertmail send`` and the dialog's start do not load them.

``TokenSource`` requests and caches the token of one configuration.
``OAuthCredentials`` hands token sources to ``SmtpDispatcher`` and
``failover.deliver`` through their ``password_for`` argument: the login
step looks for a ``token_source(server_name)`` method on it (see
``smtp_auth.token_source_of``).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping

from . import tls
from .connection import POLL_INTERVAL_S, CancelToken, Deadline, cancelled_error
from .errors import ConnectFailure, SecretStoreError, SettingError, Step, seconds_text
from .oauth_config import (
    PROVIDERS,
    OAuthConfig,
    ServiceAccountKey,
    config_from_server,
    parse_service_account_key,
    secret_entry,
    secret_noun,
)
from .oauth_errors import endpoint_host, refused_failure, transport_failure

__all__ = [
    "PROVIDERS",
    "OAuthConfig",
    "OAuthCredentials",
    "ServiceAccountKey",
    "TokenSource",
    "parse_service_account_key",
    "server_token_source",
    "token_source_for",
]

log = logging.getLogger(__name__)

# A cached token is replaced this many seconds before its ``expires_in`` ends,
# so it does not expire between the check and the AUTH command.
REFRESH_MARGIN_S = 60.0
# Used when the token response has no ``expires_in``: request a new token each time.
_UNKNOWN_LIFETIME_S = 0.0


class TokenSource:
    """Requests access tokens for one ``OAuthConfig`` and caches them in memory.

    ``token(timeout_s)`` returns the cached token while it is valid for more
    than ``REFRESH_MARGIN_S`` seconds, and requests a new one otherwise.
    ``ssl_context`` defaults to the operating system's trust store (as for
    SMTP); ``clock`` returns monotonic seconds. Thread-safe: concurrent
    callers wait for one request. ``worker`` is the thread of the latest
    request, which a caller that gave up on it may join.
    """

    def __init__(
        self,
        config: OAuthConfig,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.ssl_context = ssl_context
        self.clock = clock
        self.worker: threading.Thread | None = None
        self._token = ""
        self._expires_at = 0.0
        self._lock = threading.Lock()

    @property
    def mailbox(self) -> str:
        """The XOAUTH2 user name."""
        return self.config.user

    @property
    def endpoint_host(self) -> str:
        """The host name of the token endpoint, for messages."""
        return endpoint_host(self.config.endpoint)

    @property
    def has_valid_token(self) -> bool:
        """True when ``token`` would return the cached token without a request."""
        return bool(self._token) and self.clock() < self._expires_at - REFRESH_MARGIN_S

    def token(self, timeout_s: float, cancel: CancelToken | None = None) -> str:
        """Return a valid access token, requesting one within ``timeout_s`` when needed.

        Raises ``ConnectFailure`` at ``Step.TOKEN`` with the identity
        provider's error in words, or ``DeliveryCancelled`` when ``cancel``
        is cancelled during the request.
        """
        with self._lock:
            if self.has_valid_token:
                return self._token
            token, lifetime = self._request_in_thread(timeout_s, cancel)
            self._token = token
            self._expires_at = self.clock() + lifetime
            return token

    def invalidate(self) -> None:
        """Drop the cached token, for example after the SMTP server rejected it."""
        with self._lock:
            self._token = ""
            self._expires_at = 0.0

    def _request_in_thread(self, timeout_s: float, cancel: CancelToken | None) -> tuple[str, float]:
        """Run the request in a daemon thread, so cancel and the whole deadline end the wait.

        ``requests`` applies its timeout to the connect and to each read, not
        to the whole exchange, and a flag cannot interrupt a blocked read. A
        thread given up on ends by itself within its own timeout.
        """
        outcome: dict[str, object] = {}
        done = threading.Event()

        def work() -> None:
            try:
                outcome["token"] = self._request(timeout_s)
            except BaseException as error:  # handed to the waiting thread
                outcome["error"] = error
            finally:
                done.set()

        deadline = Deadline(timeout_s)
        self.worker = threading.Thread(target=work, name="alertmail-oauth-token", daemon=True)
        self.worker.start()
        while not done.wait(min(POLL_INTERVAL_S, deadline.remaining())):
            if cancel is not None and cancel.cancelled:
                raise cancelled_error(Step.TOKEN, self.config.server)
            if deadline.expired:
                raise ConnectFailure(
                    Step.TOKEN,
                    f"no reply from the token endpoint {endpoint_host(self.config.endpoint)} within "
                    f"{seconds_text(timeout_s)}",
                    server=self.config.server,
                )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["token"]

    def _request(self, timeout_s: float) -> tuple[str, float]:
        import requests
        from authlib.common.errors import AuthlibBaseError

        config = self.config
        endpoint = config.endpoint
        status: list[int] = []
        log.info(
            "requesting an OAuth 2.0 token for %s from %s (%s)", config.user, endpoint,
            PROVIDERS[config.provider],
        )
        session = self._session(status)
        session.default_timeout = timeout_s
        try:
            with session:
                if config.provider == "google":
                    token_response = session.refresh_token()
                else:
                    token_response = session.fetch_token(endpoint, grant_type="client_credentials")
        except AuthlibBaseError as error:
            # OAuth2Session raises OAuthError, AssertionSession OAuth2Error;
            # both carry the endpoint's ``error`` and ``error_description``.
            raise refused_failure(
                config.provider, status[-1] if status else None, error.error or "",
                error.description or "", server=config.server,
            ) from None
        except (requests.RequestException, ValueError) as error:
            raise transport_failure(error, endpoint, timeout_s, server=config.server) from None
        return self._parse(token_response)

    def _session(self, status: list[int]):
        from authlib.integrations.requests_client import AssertionSession, OAuth2Session

        config = self.config
        if config.provider == "google":
            key = config.service_account_key()
            session = AssertionSession(
                token_endpoint=config.endpoint,
                issuer=key.client_email,
                subject=config.user,
                audience=config.endpoint,
                claims={"scope": config.effective_scope},
                key=_signing_key(key, config.server),
                header={"alg": "RS256", "kid": key.private_key_id} if key.private_key_id else {"alg": "RS256"},
            )
        else:
            # RFC 6749 requires every server to accept HTTP Basic client
            # authentication; Microsoft documents the secret in the body.
            method = "client_secret_post" if config.provider == "microsoft365" else "client_secret_basic"
            session = OAuth2Session(
                client_id=config.client_id.strip(),
                client_secret=config.secret,
                scope=config.effective_scope,
                token_endpoint_auth_method=method,
            )
        _configure(session, self.ssl_context or tls.default_context())
        session.hooks["response"].append(lambda response, *args, **kwargs: status.append(response.status_code))
        return session

    def _parse(self, token_response: Mapping) -> tuple[str, float]:
        token = token_response.get("access_token")
        if not isinstance(token, str) or not token:
            raise ConnectFailure(
                Step.TOKEN, "the token endpoint's response has no access_token",
                server=self.config.server,
            )
        try:
            lifetime = float(token_response.get("expires_in", _UNKNOWN_LIFETIME_S))
        except (TypeError, ValueError):
            lifetime = _UNKNOWN_LIFETIME_S
        log.info("received an OAuth 2.0 token for %s, valid for %g seconds", self.config.user, lifetime)
        return token, lifetime


def _signing_key(key: ServiceAccountKey, server: str):
    """Return the service account's private key for signing, or raise ``ConnectFailure``."""
    from joserfc.jwk import RSAKey

    try:
        return RSAKey.import_key(key.private_key)
    except (ValueError, TypeError) as error:
        raise ConnectFailure(
            Step.TOKEN,
            f"the private_key of the stored service-account key for {key.client_email} could not "
            f"be read ({type(error).__name__}): store the key file again",
            server=server,
        ) from None


def _configure(session, context: ssl.SSLContext) -> None:
    """Make ``session`` verify with ``context`` only, with no retries and no environment settings."""
    from requests.adapters import HTTPAdapter

    class ContextAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["ssl_context"] = context
            return super().init_poolmanager(*args, **kwargs)

        def cert_verify(self, conn, url, verify, cert):
            # Only the context decides trust, because requests would
            # otherwise load its own CA bundle (certifi) into it.
            conn.cert_reqs = "CERT_REQUIRED"
            conn.ca_certs = None
            conn.ca_cert_dir = None

    # NOTE: trust_env=False also ignores HTTPS_PROXY, so a token endpoint
    # reachable only through a proxy fails to connect.
    session.trust_env = False
    session.max_redirects = 0
    session.mount("https://", ContextAdapter(max_retries=0))
    session.mount("http://", ContextAdapter(max_retries=0))


class OAuthCredentials:
    """Token sources by server name, passed to the dispatcher as ``password_for``.

    Called with a server name it returns that server's password from
    ``password_for`` (the keyring by default), for a server that logs in
    with a password. ``token_source(server_name)`` returns the server's
    ``TokenSource`` or ``None``.
    """

    def __init__(
        self,
        sources: Mapping[str, TokenSource],
        password_for: Callable[[str], str] | None = None,
    ) -> None:
        self.sources = dict(sources)
        self.password_for = password_for

    def token_source(self, server_name: str) -> TokenSource | None:
        """Return the token source of ``server_name``, or ``None`` when it logs in otherwise."""
        return self.sources.get(server_name)

    def __call__(self, server_name: str) -> str:
        if self.password_for is None:
            from .secrets import read_password

            return read_password(server_name)
        return self.password_for(server_name)


_shared: dict[OAuthConfig, TokenSource] = {}
_shared_lock = threading.Lock()


def token_source_for(config: OAuthConfig, ssl_context: ssl.SSLContext | None = None) -> TokenSource:
    """Return the process-wide token source of ``config``, so its token is reused between sessions.

    ``config`` includes the server name and the secret, so a changed setting
    or secret gets a new source and a new token. ``ssl_context`` is used
    only when the source is created.
    """
    with _shared_lock:
        source = _shared.get(config)
        if source is None:
            source = _shared[config] = TokenSource(config, ssl_context=ssl_context)
        return source


def server_token_source(
    server, password_for: Callable[..., str] | None, ssl_context: ssl.SSLContext | None = None
) -> TokenSource:
    """Return the token source of a server that signs in with OAuth 2.0, from its settings.

    ``server`` is a ``settings.ServerSettings``. The secret is read through
    ``password_for`` with the keyring entry's name (``oauth_config.secret_entry``),
    or from the keyring when ``password_for`` is ``None``. Raises
    ``ConnectFailure`` at the password step when no secret can be read, and at
    the token step when a setting is missing or invalid, so the failover rules
    count both as "cannot connect".
    """
    entry = secret_entry(server.name, server.oauth_provider)
    noun = secret_noun(server.oauth_provider)
    if password_for is None:
        from .secrets import read_password as password_for

    try:
        # The keyring reader names the secret from the entry's name.
        secret = password_for(entry)
    except SecretStoreError as error:
        raise ConnectFailure(Step.PASSWORD, str(error), server=server.name) from None
    except Exception as error:  # a keyring plugin may raise anything
        raise ConnectFailure(
            Step.PASSWORD,
            f"{noun} for the {server.label} server could not be read: {type(error).__name__}: {error}",
            server=server.name,
        ) from None
    try:
        config = config_from_server(server, str(secret or ""))
    except SettingError as error:
        raise ConnectFailure(Step.TOKEN, str(error), server=server.name) from None
    return token_source_for(config, ssl_context)
